// Field offsets from the kernel's accessors, on the instruction forms real kernels use.

import { describe, expect, test } from 'vitest';
import { KernelMemory } from '../../../../src/core/kernel/memory';
import type { VirtualSpace } from '../../../../src/core/paging';
import { offsetFromAccessor } from '../../../../src/core/layout/accessors';

const BASE = 0xfffff80000401000n;

/** Kernel memory holding `code` at BASE (and int3 after it, as between functions). */
function memoryWith(code: number[], pointerSize: 4 | 8): KernelMemory {
  const page = new Uint8Array(0x1000).fill(0xcc);
  page.set(code);
  const base = pointerSize === 8 ? BASE : 0x80501000n;
  const space = {
    read(va: bigint, length: number) {
      const at = Number(va - base);
      if (at < 0 || at + length > page.length) return { ok: false, failure: { reason: 'not-present' } };
      return { ok: true, bytes: page.slice(at, at + length) };
    },
  } as unknown as VirtualSpace;
  return new KernelMemory(space, pointerSize);
}

const at = (pointerSize: 4 | 8) => (pointerSize === 8 ? BASE : 0x80501000n);

describe('offsets read from accessor code', () => {
  test.each([
    [
      'x64 mov rax,[rcx+2E8h]; ret (PsGetProcessId, 10 1607)',
      [0x48, 0x8b, 0x81, 0xe8, 0x02, 0, 0, 0xc3],
      8,
      0x2e8,
    ],
    [
      'x64 lea rax,[rcx+5A8h]; ret (PsGetProcessImageFileName, 10 2004)',
      [0x48, 0x8d, 0x81, 0xa8, 0x05, 0, 0, 0xc3],
      8,
      0x5a8,
    ],
    [
      'x64 mov rax,rcx; mov rax,[rax+440h]; ret',
      [0x48, 0x8b, 0xc1, 0x48, 0x8b, 0x80, 0x40, 0x04, 0, 0, 0xc3],
      8,
      0x440,
    ],
    [
      'x86 mov eax,[esp+4]; mov eax,[eax+84h]; ret 4 (XP)',
      [0x8b, 0x44, 0x24, 0x04, 0x8b, 0x80, 0x84, 0, 0, 0, 0xc2, 0x04, 0],
      4,
      0x84,
    ],
    [
      'x86 mov edi,edi; push ebp; mov ebp,esp; mov eax,[ebp+8]; mov eax,[eax+0B4h]; pop ebp; ret 4 (7)',
      [0x8b, 0xff, 0x55, 0x8b, 0xec, 0x8b, 0x45, 0x08, 0x8b, 0x80, 0xb4, 0, 0, 0, 0x5d, 0xc2, 0x04, 0],
      4,
      0xb4,
    ],
    [
      'x86 mov eax,[esp+4]; add eax,174h; ret 4',
      [0x8b, 0x44, 0x24, 0x04, 0x05, 0x74, 0x01, 0, 0, 0xc2, 0x04, 0],
      4,
      0x174,
    ],
  ] as const)('%s', (_label, code, pointerSize, offset) => {
    const memory = memoryWith([...code], pointerSize);
    expect(offsetFromAccessor(memory, at(pointerSize))?.offset).toBe(offset);
  });

  test.each([
    ['reads another register than the argument', [0x48, 0x8b, 0x82, 0xe8, 0x02, 0, 0, 0xc3], 8],
    ['jumps before reading', [0xe9, 0x10, 0, 0, 0, 0x48, 0x8b, 0x81, 0xe8, 0x02, 0, 0, 0xc3], 8],
    ['overwrites the argument first', [0x33, 0xc9, 0x48, 0x8b, 0x81, 0xe8, 0x02, 0, 0, 0xc3], 8],
    [
      'x86: reads a stack slot that is not the argument',
      [0x8b, 0x44, 0x24, 0x08, 0x8b, 0x80, 0x84, 0, 0, 0, 0xc2, 0x04, 0],
      4,
    ],
    ['only int3', [], 8],
  ] as const)('not an accessor: %s', (_label, code, pointerSize) => {
    expect(offsetFromAccessor(memoryWith([...code], pointerSize), at(pointerSize))).toBeNull();
  });

  test('unreadable code: null, not a throw', () => {
    expect(offsetFromAccessor(memoryWith([], 8), BASE - 0x10000n)).toBeNull();
  });
});
