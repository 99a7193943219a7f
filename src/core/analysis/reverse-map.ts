// Physical page → kernel virtual address, for the pages where the pool scan found something: one
// bounded walk of the kernel half of the page tables (skipping the self-map), keeping only the
// pages asked for. Windows 10+ needs it to decode TypeIndex (spec §4.2).

import type { KernelContext } from '../kernel/discover';

const PAGE = 0x1000;

export function reverseMap(context: KernelContext, pages: Set<number>): (pa: number) => bigint | null {
  const memory = context.memory!;
  const found = new Map<number, bigint>();
  const sorted = [...pages].sort((a, b) => a - b);
  const record = (va: bigint, pa: number, size: number) => {
    if (size <= PAGE) {
      const pfn = pa / PAGE;
      if (pages.has(pfn) && !found.has(pfn)) found.set(pfn, va);
      return;
    }
    // A large page: every wanted frame inside it.
    const first = pa / PAGE;
    const last = first + size / PAGE;
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (sorted[mid]! < first) low = mid + 1;
      else high = mid;
    }
    for (let i = low; i < sorted.length && sorted[i]! < last; i++) {
      if (!found.has(sorted[i]!)) found.set(sorted[i]!, va + BigInt((sorted[i]! - first) * PAGE));
    }
  };
  if (pages.size > 0) {
    const walk = (start: bigint, end: bigint, skipTopLevel: number[] = []) =>
      memory.virtual.forEachMapping(start, end, (m) => record(m.va, m.pa, m.size), { skipTopLevel });
    if (context.paging === 'x64') {
      walk(
        0xffff800000000000n,
        0xffffffffffffffffn,
        [selfMapIndex(context)].filter((i) => i >= 0),
      );
    } else if (context.paging === 'pae') {
      walk(0x80000000n, 0xc0000000n);
      walk(0xc0800000n, 0x100000000n);
    } else {
      walk(0x80000000n, 0xc0000000n);
      walk(0xc0400000n, 0x100000000n);
    }
  }
  return (pa) => found.get(Math.floor(pa / PAGE)) ?? null;
}

/** The PML4 slot that points at the PML4 itself. */
function selfMapIndex(context: KernelContext): number {
  const dtb = context.dtb!.virtual.tableBase;
  const table = context.space.read(dtb, PAGE);
  if (!table) return -1;
  const view = new DataView(table.buffer, table.byteOffset);
  for (let i = 256; i < 512; i++) {
    const entry = view.getBigUint64(i * 8, true);
    if (entry & 1n && Number(entry & 0x000ffffffffff000n) === dtb) return i;
  }
  return -1;
}
