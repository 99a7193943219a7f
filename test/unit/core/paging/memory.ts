// A sparse physical memory for paging tests, and a page-table writer that lays out tables for
// x86, PAE and x64 by hand (spec §2.2–§2.4), so every expected translation is computed here.

import { VirtualSpace, type PagingMode, type PhysicalReader } from '../../../../src/core/paging';

export const PAGE = 0x1000;

export class SparseMemory implements PhysicalReader {
  readonly pages = new Map<number, Uint8Array>();
  maxAddress = 0;

  page(pfn: number): Uint8Array {
    let page = this.pages.get(pfn);
    if (page === undefined) {
      page = new Uint8Array(PAGE);
      this.pages.set(pfn, page);
      this.maxAddress = Math.max(this.maxAddress, (pfn + 1) * PAGE);
    }
    return page;
  }

  /** Makes a page present and stamps it with "PA:" and its address. */
  data(pa: number): void {
    const page = this.page(Math.floor(pa / PAGE));
    page.set([0x50, 0x41, 0x3a], 0);
    new DataView(page.buffer).setFloat64(8, Math.floor(pa / PAGE) * PAGE, true);
  }

  write32(pa: number, value: number): void {
    new DataView(this.page(Math.floor(pa / PAGE)).buffer).setUint32(pa % PAGE, value >>> 0, true);
  }

  write64(pa: number, value: bigint): void {
    new DataView(this.page(Math.floor(pa / PAGE)).buffer).setBigUint64(pa % PAGE, value, true);
  }

  read(pa: number, length: number): Uint8Array | null {
    const out = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const at = pa + done;
      const page = this.pages.get(Math.floor(at / PAGE));
      if (page === undefined) return null;
      const take = Math.min(length - done, PAGE - (at % PAGE));
      out.set(page.subarray(at % PAGE, (at % PAGE) + take), done);
      done += take;
    }
    return out;
  }

  isPresent(pa: number): boolean {
    return this.pages.has(Math.floor(pa / PAGE));
  }
}

/** The address a stamped page says it is, or undefined for an unstamped page. */
export function stampOf(bytes: Uint8Array | null | undefined): number | undefined {
  if (!bytes || bytes[0] !== 0x50 || bytes[1] !== 0x41 || bytes[2] !== 0x3a) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset).getFloat64(8, true);
}

const GEOMETRY: Record<PagingMode, { shift: number; bits: number }[]> = {
  x64: [
    { shift: 39, bits: 9 },
    { shift: 30, bits: 9 },
    { shift: 21, bits: 9 },
    { shift: 12, bits: 9 },
  ],
  pae: [
    { shift: 30, bits: 2 },
    { shift: 21, bits: 9 },
    { shift: 12, bits: 9 },
  ],
  x86: [
    { shift: 22, bits: 10 },
    { shift: 12, bits: 10 },
  ],
};

/** Writes page tables. Tables are allocated from `nextTable` upward; PDPT/PD/PML4 at `tableBase`. */
export class Tables {
  nextTable: number;

  constructor(
    readonly memory: SparseMemory,
    readonly mode: PagingMode,
    readonly tableBase: number,
    firstFreeTable: number,
  ) {
    this.nextTable = firstFreeTable;
    memory.page(Math.floor(tableBase / PAGE));
  }

  private get entrySize(): number {
    return this.mode === 'x86' ? 4 : 8;
  }

  private index(va: bigint, depth: number): number {
    const level = GEOMETRY[this.mode][depth]!;
    return Number((va >> BigInt(level.shift)) & ((1n << BigInt(level.bits)) - 1n));
  }

  readEntry(pa: number): bigint {
    const bytes = this.memory.read(pa, this.entrySize)!;
    const view = new DataView(bytes.buffer);
    return this.entrySize === 8 ? view.getBigUint64(0, true) : BigInt(view.getUint32(0, true));
  }

  writeEntry(pa: number, value: bigint): void {
    if (this.entrySize === 8) this.memory.write64(pa, value);
    else this.memory.write32(pa, Number(value & 0xffffffffn));
  }

  /** Physical address of the entry for `va` at `depth` (0 = top), creating present tables above it. */
  entryAddress(va: bigint, depth: number): number {
    let table = this.tableBase;
    for (let d = 0; d < depth; d++) {
      const at = table + this.index(va, d) * this.entrySize;
      let entry = this.readEntry(at);
      if ((entry & 1n) === 0n) {
        const fresh = this.nextTable;
        this.nextTable += PAGE;
        this.memory.page(fresh / PAGE);
        entry = BigInt(fresh) | 0x3n; // present, writable
        this.writeEntry(at, entry);
      }
      table = Number(entry & (this.mode === 'x86' ? 0xfffff000n : 0x000ffffffffff000n));
    }
    return table + this.index(va, depth) * this.entrySize;
  }

  /** Sets the entry for `va` at `depth` (last level for a 4 KiB PTE). */
  set(va: bigint, depth: number, value: bigint): number {
    const at = this.entryAddress(va, depth);
    this.writeEntry(at, value);
    return at;
  }

  get leafDepth(): number {
    return GEOMETRY[this.mode].length - 1;
  }

  /** A present, writable 4 KiB mapping va → pa, with the data page made present. */
  map(va: bigint, pa: number, flags = 0x63n): void {
    this.set(va, this.leafDepth, BigInt(pa) | flags);
    this.memory.data(pa);
  }
}

/**
 * An x64 space whose top table (page 1) has entries 1..511 all pointing back at itself: every
 * table read leads to 511 more, so only the walk's caps end it (enumerate tests; npm run bench).
 */
export function tablesOfThemselves(): VirtualSpace {
  const memory = new SparseMemory();
  memory.page(1);
  for (let i = 1; i < 512; i++) memory.write64(0x1000 + i * 8, 0x1000n | 0x3n);
  return new VirtualSpace(memory, { mode: 'x64', dtb: 0x1000 });
}
