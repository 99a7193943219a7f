// KernelMemory.scanBytes: a scan of kernel code reads past pages it cannot read (zeros there),
// where a plain read would stop at the first one.

import { describe, expect, test } from 'vitest';
import { KernelMemory } from '../../../src/core/kernel/memory';
import type { PartialRead, VirtualSpace } from '../../../src/core/paging';

/** Pages 0x1000..0x5000 of a space where the page at 0x3000 is paged out; each byte is its page number. */
function space(): VirtualSpace {
  const readable = (va: bigint) => va >= 0x1000n && va < 0x6000n && (va & ~0xfffn) !== 0x3000n;
  return {
    readPartial(va: bigint, length: number): PartialRead {
      const bytes: number[] = [];
      for (let i = 0; i < length; i++) {
        const at = va + BigInt(i);
        if (!readable(at))
          return {
            bytes: Uint8Array.from(bytes),
            failure: { va: at, failure: { ok: false, reason: 'paged-out', level: 'page', pa: null } },
          } as unknown as PartialRead;
        bytes.push(Number(at >> 12n));
      }
      return { bytes: Uint8Array.from(bytes) };
    },
  } as unknown as VirtualSpace;
}

describe('scanBytes', () => {
  test('reads on past an unreadable page, zeros in its place', () => {
    const memory = new KernelMemory(space(), 8);
    const bytes = memory.scanBytes(0x1800n, 0x4000);
    expect(bytes[0]).toBe(1);
    expect(bytes[0x800]).toBe(2);
    expect(bytes.subarray(0x1800, 0x2800).every((b) => b === 0)).toBe(true);
    expect(bytes[0x2800]).toBe(4);
    expect(bytes[0x3fff]).toBe(5);
  });
  test('a range that is unreadable throughout is zeros, and ends', () => {
    const memory = new KernelMemory(space(), 8);
    expect(memory.scanBytes(0x10000n, 0x3000).every((b) => b === 0)).toBe(true);
  });
});
