// Locating the notify arrays on bytes built here: through the registration routine's code (a thunk
// to an internal routine, the array's LEA after a decoy's), through the symbol file, and why not
// when neither route works; reading a slot that leads nowhere is a problem of that slot.

import { describe, expect, test } from 'vitest';
import type { PeImage } from '../../../../src/core/kernel/pe';
import type { LayoutProfile } from '../../../../src/core/profile';
import { readArray } from '../../../../src/core/callbacks/arrays';
import { callbackSources } from '../../../../src/core/callbacks/kinds';
import { locateSource } from '../../../../src/core/callbacks/locate';
import { SparsePages } from '../../../support/sparse-memory';

const KERNEL = 0xfffff80000400000n;
const POOL = 0xffffc00000100000n;
const TEXT = 0x1000;
const DATA = 0x2000;
const EXPORT_RVA = TEXT + 0x100;
const INTERNAL_RVA = TEXT + 0x200;
const ARRAY_RVA = DATA + 0x100;
const DECOY_RVA = DATA + 0x400;
const PROCESS = callbackSources(19041, 8).find((k) => k.kind === 'process-notify')!;
const PROCESS_XP = callbackSources(2600, 8).find((k) => k.kind === 'process-notify')!;

const pe: PeImage = {
  base: KERNEL,
  machine: 0x8664,
  is64: true,
  sizeOfImage: 0x4000,
  timeDateStamp: 0,
  checksum: 0,
  entryRva: TEXT,
  sections: [
    { name: '.text', rva: TEXT, size: 0x1000, characteristics: 0x60000020 },
    { name: '.data', rva: DATA, size: 0x1000, characteristics: 0xc0000040 },
  ],
  exportDirectory: null,
  debugDirectory: null,
};

function rel32(from: bigint, to: bigint): number[] {
  const value = Number(BigInt.asIntN(32, to - from));
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

/**
 * A kernel whose PsSetCreateProcessNotifyRoutine jumps to an internal routine that loads a decoy
 * (a table of pointers to nowhere) and then the array, whose slots 0 and 1 hold fast references
 * to blocks of two routines.
 */
function kernel(options: { hops?: number } = {}): SparsePages {
  const pages = new SparsePages();
  const at = (rva: number) => KERNEL + BigInt(rva);
  const hops = options.hops ?? 1;
  // Each hop: xor r8d,r8d; jmp next (the last jumps to the internal routine).
  for (let hop = 0; hop < hops; hop++) {
    const from = at(EXPORT_RVA + hop * 0x10);
    const to = hop === hops - 1 ? at(INTERNAL_RVA) : at(EXPORT_RVA + (hop + 1) * 0x10);
    pages.write(from, [0x45, 0x33, 0xc0, 0xe9, ...rel32(from + 8n, to)]);
  }
  const internal = at(INTERNAL_RVA);
  pages.write(internal, [
    0x48,
    0x8d,
    0x15,
    ...rel32(internal + 7n, at(DECOY_RVA)), // lea rdx,[rip+decoy]
    0x48,
    0x8d,
    0x0d,
    ...rel32(internal + 14n, at(ARRAY_RVA)), // lea rcx,[rip+array]
    0xc3,
  ]);
  for (let i = 0; i < 64; i++)
    pages.ptr(at(DECOY_RVA) + BigInt(i * 8), 0xfffff90000000000n + BigInt(i * 0x40));
  pages.write(at(ARRAY_RVA), new Uint8Array(64 * 8));
  for (const [slot, routine] of [
    [0, at(TEXT + 0x800)],
    [1, at(TEXT + 0x900)],
  ] as const) {
    const block = POOL + BigInt(slot * 0x20);
    pages.ptr(block, 0n);
    pages.ptr(block + 8n, routine);
    pages.ptr(block + 16n, 0n);
    pages.ptr(at(ARRAY_RVA) + BigInt(slot * 8), block | 0x3n);
  }
  return pages;
}

const exports = new Map([['PsSetCreateProcessNotifyRoutine', EXPORT_RVA]]);
const symbols = (table: Record<string, number>) =>
  ({ symbol: (name: string) => table[name] }) as unknown as LayoutProfile;

describe('the process-notify array', () => {
  test("is found from the registration routine's code, past a thunk and a decoy", () => {
    const { found, tried } = locateSource(kernel().memory(), pe, exports, null, PROCESS);
    expect(found?.address).toBe(KERNEL + BigInt(ARRAY_RVA));
    expect(found?.method).toMatch(/^PsSetCreateProcessNotifyRoutine→0xfffff80000401200\+0x7: lea rcx,/);
    expect(tried).toEqual([]);
  });

  test('is found from the symbol file when one names it', () => {
    const profile = symbols({ PspCreateProcessNotifyRoutine: ARRAY_RVA });
    const { found } = locateSource(kernel().memory(), pe, new Map(), profile, PROCESS);
    expect(found).toEqual({
      address: KERNEL + BigInt(ARRAY_RVA),
      method: 'symbol file: PspCreateProcessNotifyRoutine',
    });
  });

  test('a symbol that names something else falls back to the code, and says so', () => {
    const profile = symbols({ PspCreateProcessNotifyRoutine: DECOY_RVA });
    const { found, tried } = locateSource(kernel().memory(), pe, exports, profile, PROCESS);
    expect(found?.address).toBe(KERNEL + BigInt(ARRAY_RVA));
    expect(tried).toEqual([expect.stringMatching(/^symbol file: 64 of its slots lead nowhere/)]);
  });

  test('is not followed through more than two near jumps', () => {
    const { found, tried } = locateSource(kernel({ hops: 3 }).memory(), pe, exports, null, PROCESS);
    expect(found).toBeNull();
    expect(tried).toContain("PsSetCreateProcessNotifyRoutine's code loads no address in the kernel's data");
  });

  test('without an export or a symbol, the reason is each route', () => {
    const { found, tried } = locateSource(kernel().memory(), pe, new Map(), null, PROCESS_XP);
    expect(found).toBeNull();
    expect(tried).toEqual([
      'PsSetCreateProcessNotifyRoutine is not exported',
      'PsSetCreateProcessNotifyRoutineEx is not exported',
    ]);
  });

  test('a slot whose reference leads nowhere is a problem of that slot', () => {
    const pages = kernel();
    pages.ptr(KERNEL + BigInt(ARRAY_RVA) + 16n, 0xffffc00000900001n);
    const memory = pages.memory();
    const { found } = locateSource(memory, pe, exports, null, PROCESS);
    const reading = readArray(memory, found!.address, 64, 'process notify');
    expect(reading.slots.map((s) => [s.index, s.routine])).toEqual([
      [0, KERNEL + BigInt(TEXT + 0x800)],
      [1, KERNEL + BigInt(TEXT + 0x900)],
    ]);
    expect(reading.problems).toEqual([
      'process notify slot 2 (0xfffff80000402110): its block 0xffffc00000900000 is not in the image',
    ]);
  });
});

describe('the bug-check callback list', () => {
  const BUGCHECK = callbackSources(19041, 8).find((k) => k.kind === 'bugcheck')!;
  const REGISTER_RVA = TEXT + 0x400;
  const HEAD_RVA = DATA + 0x800;
  const DECOY_LIST_RVA = DATA + 0x840;
  const RECORD = POOL + 0x400n;

  /** KeRegisterBugCheckCallback loads a decoy pair of kernel pointers, then the head of a one-record ring. */
  function withList(): SparsePages {
    const pages = kernel();
    const at = (rva: number) => KERNEL + BigInt(rva);
    const code = at(REGISTER_RVA);
    pages.write(code, [
      0x48,
      0x8d,
      0x15,
      ...rel32(code + 7n, at(DECOY_LIST_RVA)), // lea rdx,[rip+decoy]
      0x48,
      0x8d,
      0x0d,
      ...rel32(code + 14n, at(HEAD_RVA)), // lea rcx,[rip+head]
      0xc3,
    ]);
    pages.ptr(at(DECOY_LIST_RVA), at(ARRAY_RVA));
    pages.ptr(at(DECOY_LIST_RVA) + 8n, at(ARRAY_RVA));
    pages.ptr(at(HEAD_RVA), RECORD);
    pages.ptr(at(HEAD_RVA) + 8n, RECORD);
    pages.ptr(RECORD, at(HEAD_RVA));
    pages.ptr(RECORD + 8n, at(HEAD_RVA));
    pages.ptr(RECORD + 16n, at(TEXT + 0xa00)); // CallbackRoutine
    return pages;
  }
  const registration = new Map([['KeRegisterBugCheckCallback', REGISTER_RVA]]);

  test('is the address the registration routine loads whose links lead back to it', () => {
    const { found } = locateSource(withList().memory(), pe, registration, null, BUGCHECK);
    expect(found?.address).toBe(KERNEL + BigInt(HEAD_RVA));
    expect(found?.method).toMatch(/^KeRegisterBugCheckCallback\+0x7: lea rcx,/);
  });

  test('a head whose links lead nowhere back is not taken, and the reason says so', () => {
    const pages = withList();
    pages.ptr(RECORD, 0xffffc00000500000n);
    pages.ptr(RECORD + 8n, 0xffffc00000500000n);
    const { found, tried } = locateSource(pages.memory(), pe, registration, null, BUGCHECK);
    expect(found).toBeNull();
    expect(tried).toEqual([
      "none of the 2 data addresses KeRegisterBugCheckCallback's code loads reads as a list head",
    ]);
  });
});
