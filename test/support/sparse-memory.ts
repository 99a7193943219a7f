// Kernel memory a unit test writes itself: 4 KiB pages of its own, anything else not present,
// read through KernelMemory as the engine reads an image.

import { KernelMemory } from '../../src/core/kernel/memory';
import type { PartialRead, VirtualSpace } from '../../src/core/paging';

/** A VirtualSpace over `readPartial`; `read` is all or nothing, as the real one's. */
export function virtualSpaceOver(readPartial: (va: bigint, length: number) => PartialRead): VirtualSpace {
  return {
    readPartial,
    read(va: bigint, length: number) {
      const partial = readPartial(va, length);
      return partial.failure
        ? { ok: false, va: partial.failure.va, failure: partial.failure.failure }
        : { ok: true, bytes: partial.bytes };
    },
  } as unknown as VirtualSpace;
}

/** Sparse kernel memory (x64 unless told): pages written by the test; anything else is not present. */
export class SparsePages {
  readonly pages = new Map<bigint, Uint8Array>();

  write(va: bigint, bytes: number[] | Uint8Array): void {
    bytes.forEach((byte, i) => {
      const at = va + BigInt(i);
      const page = at & ~0xfffn;
      if (!this.pages.has(page)) this.pages.set(page, new Uint8Array(0x1000));
      this.pages.get(page)![Number(at & 0xfffn)] = byte;
    });
  }

  ptr(va: bigint, value: bigint): void {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, value, true);
    this.write(va, bytes);
  }

  /** A LIST_ENTRY ring: the head, then each record's link at its offset 0. */
  ring(head: bigint, records: readonly bigint[]): void {
    const links = [head, ...records, head];
    for (let i = 0; i + 1 < links.length; i++) {
      this.ptr(links[i]!, links[i + 1]!);
      this.ptr(links[i + 1]! + 8n, links[i]!);
    }
  }

  memory(pointerSize: 4 | 8 = 8): KernelMemory {
    const readPartial = (va: bigint, length: number): PartialRead => {
      const out: number[] = [];
      for (let i = 0; i < length; i++) {
        const at = va + BigInt(i);
        const page = this.pages.get(at & ~0xfffn);
        if (!page)
          return {
            bytes: Uint8Array.from(out),
            failure: { va: at, failure: { ok: false, reason: 'not-present', level: 'page' } },
          };
        out.push(page[Number(at & 0xfffn)]!);
      }
      return { bytes: Uint8Array.from(out) };
    };
    return new KernelMemory(virtualSpaceOver(readPartial), pointerSize);
  }
}
