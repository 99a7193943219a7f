// Translation against hand-built page tables in all three modes: small and large pages, the PAT
// bit, transition PTEs, software PTEs, holes, canonical form, reads and the translation cache.

import { describe, expect, it } from 'vitest';
import { VirtualSpace, type Translation } from '../../../../src/core/paging';
import { PAGE, SparseMemory, stampOf, Tables } from './memory';

const PAT = 0x1000n;
const NX = 1n << 63n;

function x64(): { memory: SparseMemory; tables: Tables; space: VirtualSpace } {
  const memory = new SparseMemory();
  const tables = new Tables(memory, 'x64', 0x1000, 0x10000);
  const space = new VirtualSpace(memory, { mode: 'x64', dtb: 0x1000 });
  return { memory, tables, space };
}

function mapped(result: Translation): { pa: number; pageSize: number; viaTransition: boolean } {
  if (!result.ok) throw new Error(`expected a mapping, got ${result.reason} at ${result.level}`);
  return { pa: result.pa, pageSize: result.pageSize, viaTransition: result.viaTransition };
}

describe('x64 4-level', () => {
  it('translates a 4 KiB kernel page, ignoring NX and the software bits above 51', () => {
    const { tables, space } = x64();
    tables.map(0xfffff80000001000n, 0x5000, 0x63n | NX | (0x7fn << 52n));
    expect(mapped(space.translate(0xfffff80000001123n))).toEqual({
      pa: 0x5123,
      pageSize: PAGE,
      viaTransition: false,
    });
  });

  it('clears PCID bits from the DTB', () => {
    const { memory, tables } = x64();
    tables.map(0x10000n, 0x7000);
    const space = new VirtualSpace(memory, { mode: 'x64', dtb: 0x1000 | 0x2a });
    expect(space.tableBase).toBe(0x1000);
    expect(mapped(space.translate(0x10010n)).pa).toBe(0x7010);
  });

  it('maps 2 MiB and 1 GiB large pages, clearing the PAT bit of the large entry', () => {
    const { memory, tables, space } = x64();
    tables.set(0xfffff80000200000n, 2, 0x200000n | PAT | 0x83n);
    memory.data(0x200000 + 0x12000);
    expect(mapped(space.translate(0xfffff80000212345n))).toEqual({
      pa: 0x212345,
      pageSize: 0x200000,
      viaTransition: false,
    });

    tables.set(0xffffc00000000000n, 1, 0x40000000n | PAT | 0x83n);
    memory.data(0x40000000 + 0x3456000);
    expect(mapped(space.translate(0xffffc00003456789n))).toEqual({
      pa: 0x43456789,
      pageSize: 0x40000000,
      viaTransition: false,
    });
  });

  it('reads transition PTEs and transition page tables, and bounds them by the image', () => {
    const { memory, tables, space } = x64();
    tables.set(0xfffff80000003000n, 3, 0x6000n | 0x800n | (4n << 5n));
    memory.data(0x6000);
    expect(mapped(space.translate(0xfffff80000003010n))).toEqual({
      pa: 0x6010,
      pageSize: PAGE,
      viaTransition: true,
    });

    // A page table itself in transition: the PDE has bit 0 clear and bit 11 set.
    tables.map(0xfffff80000400000n, 0x8000);
    const pde = tables.entryAddress(0xfffff80000400000n, 2);
    tables.writeEntry(pde, (tables.readEntry(pde) & ~1n) | 0x800n);
    expect(mapped(space.translate(0xfffff80000400000n))).toMatchObject({ pa: 0x8000, viaTransition: true });

    tables.set(0xfffff80000005000n, 3, 0x7ffff000000n | 0x800n);
    expect(space.translate(0xfffff80000005000n)).toMatchObject({
      ok: false,
      reason: 'transition-out-of-range',
      level: 'pte',
    });
    expect(memory.maxAddress).toBeLessThan(0x7ffff000000);
  });

  it('names prototype, page-file and demand-zero PTEs as not resident, with the level', () => {
    const { tables, space } = x64();
    tables.set(0xfffff80000010000n, 3, 0xffffffff00000400n | (1n << 5n));
    expect(space.translate(0xfffff80000010000n)).toMatchObject({
      ok: false,
      reason: 'prototype',
      level: 'pte',
    });

    tables.set(0xfffff80000011000n, 3, (0x1234n << 32n) | (4n << 5n) | (2n << 1n));
    expect(space.translate(0xfffff80000011000n)).toEqual({
      ok: false,
      reason: 'paged-out',
      level: 'pte',
      entry: (0x1234n << 32n) | 0x84n,
      pageFile: { index: 2, pageOffset: 0x1234 },
    });

    tables.set(0xfffff80000012000n, 3, 4n << 5n);
    expect(space.translate(0xfffff80000012000n)).toMatchObject({
      reason: 'paged-out',
      pageFile: { index: 0, pageOffset: 0 },
    });

    tables.set(0xfffff80000400000n, 2, (0x99n << 32n) | (4n << 5n));
    expect(space.translate(0xfffff80000400000n)).toMatchObject({ reason: 'paged-out', level: 'pde' });
  });

  it('stops at an empty entry, a table outside the image, a data page outside it, or a non-canonical address', () => {
    const { tables, space } = x64();
    expect(space.translate(0x1000n)).toEqual({ ok: false, reason: 'not-present', level: 'pml4e', entry: 0n });
    tables.set(0xffff900000000000n, 0, 0x900000n | 3n);
    expect(space.translate(0xffff900000000000n)).toMatchObject({
      reason: 'no-physical-page',
      level: 'pdpte',
      pa: 0x900000,
    });
    tables.set(0xfffff80000020000n, 3, 0x777000n | 0x63n);
    expect(space.translate(0xfffff80000020008n)).toEqual({
      ok: false,
      reason: 'no-physical-page',
      level: 'page',
      pa: 0x777008,
    });
    expect(space.translate(0x0000800000000000n)).toEqual({ ok: false, reason: 'non-canonical', level: 'va' });
    expect(space.translate(0xffff7fffffffffffn).ok).toBe(false);
    expect(space.translate(-1n)).toMatchObject({ reason: 'non-canonical' });
    expect(space.translate(1n << 64n)).toMatchObject({ reason: 'non-canonical' });
  });
});

describe('reads', () => {
  it('reads across pages that are not physically contiguous', () => {
    const { memory, tables, space } = x64();
    tables.map(0xfffff80000001000n, 0x5000);
    tables.map(0xfffff80000002000n, 0x9000);
    memory.page(5)[PAGE - 1] = 0xaa;
    const result = space.read(0xfffff80000001fffn, 17);
    if (!result.ok) throw new Error(result.failure.reason);
    expect(result.bytes[0]).toBe(0xaa);
    expect(stampOf(result.bytes.subarray(1))).toBe(0x9000);
  });

  it('names the first unreadable address, and readPartial returns the readable prefix', () => {
    const { tables, space } = x64();
    tables.map(0xfffff80000001000n, 0x5000);
    const result = space.read(0xfffff80000001ff0n, 0x20);
    expect(result).toMatchObject({
      ok: false,
      va: 0xfffff80000002000n,
      failure: { reason: 'not-present', level: 'pte' },
    });
    const partial = space.readPartial(0xfffff80000001ff0n, 0x20);
    expect(partial.bytes.length).toBe(0x10);
    expect(partial.failure?.va).toBe(0xfffff80000002000n);
    expect(space.read(0xfffff80000001000n, 0)).toEqual({ ok: true, bytes: new Uint8Array(0) });
    expect(() => space.read(0n, -1)).toThrow(RangeError);
  });

  it('stops at the end of the lower canonical half', () => {
    const { tables, space } = x64();
    tables.map(0x00007ffffffff000n, 0x5000);
    const result = space.read(0x00007ffffffffff8n, 16);
    expect(result).toMatchObject({
      ok: false,
      va: 0x0000800000000000n,
      failure: { reason: 'non-canonical', level: 'va' },
    });
  });
});

describe('translation cache', () => {
  it('answers repeated translations from the cache and stays within its bound', () => {
    const memory = new SparseMemory();
    const tables = new Tables(memory, 'x64', 0x1000, 0x10000);
    for (let i = 0; i < 10; i++) tables.map(0xfffff80000000000n + BigInt(i * PAGE), 0x100000 + i * PAGE);
    const space = new VirtualSpace(memory, { mode: 'x64', dtb: 0x1000, cacheEntries: 4 });
    space.translate(0xfffff80000000010n);
    expect(mapped(space.translate(0xfffff80000000020n)).pa).toBe(0x100020);
    expect(space.cacheStats).toMatchObject({ hits: 1, misses: 1 });
    for (let i = 0; i < 10; i++)
      expect(mapped(space.translate(0xfffff80000000000n + BigInt(i * PAGE) + 5n)).pa).toBe(
        0x100005 + i * PAGE,
      );
    expect(space.cacheStats.size).toBeLessThanOrEqual(4);
    space.clearCache();
    expect(space.cacheStats.size).toBe(0);
  });
});

describe('x86 PAE (3-level, 32-byte aligned PDPT)', () => {
  function pae(): { memory: SparseMemory; tables: Tables; space: VirtualSpace } {
    const memory = new SparseMemory();
    const tables = new Tables(memory, 'pae', 0x3020, 0x10000);
    // PAE PDPT entries carry only P (and PWT/PCD); the writer sets RW too, which walks the same.
    const space = new VirtualSpace(memory, { mode: 'pae', dtb: 0x3020 | 0x18 });
    return { memory, tables, space };
  }

  it('keeps bits 5–11 of the DTB and walks PDPT → PD → PT', () => {
    const { tables, space } = pae();
    expect(space.tableBase).toBe(0x3020);
    tables.map(0xc0001000n, 0x5000);
    expect(mapped(space.translate(0xc0001abcn))).toEqual({
      pa: 0x5abc,
      pageSize: PAGE,
      viaTransition: false,
    });
  });

  it('maps 2 MiB pages (PAT cleared) and frames above 4 GiB', () => {
    const { memory, tables, space } = pae();
    tables.set(0x80400000n, 1, 0x600000n | PAT | 0x83n);
    memory.data(0x600000 + 0x1000);
    expect(mapped(space.translate(0x80401234n))).toEqual({
      pa: 0x601234,
      pageSize: 0x200000,
      viaTransition: false,
    });
    tables.map(0x80001000n, 0x123456000);
    expect(mapped(space.translate(0x80001008n)).pa).toBe(0x123456008);
  });

  it('reads transition PTEs and reports page-file PTEs with the upper-half offset', () => {
    const { memory, tables, space } = pae();
    tables.set(0x80002000n, 2, 0x7000n | 0x800n);
    memory.data(0x7000);
    expect(mapped(space.translate(0x80002000n))).toMatchObject({ pa: 0x7000, viaTransition: true });
    tables.set(0x80003000n, 2, (0x55n << 32n) | (3n << 1n) | (4n << 5n));
    expect(space.translate(0x80003000n)).toMatchObject({
      reason: 'paged-out',
      pageFile: { index: 3, pageOffset: 0x55 },
    });
    expect(space.translate(0x1_0000_0000n)).toEqual({ ok: false, reason: 'non-canonical', level: 'va' });
    expect(space.translate(0x40000000n)).toMatchObject({ reason: 'not-present', level: 'pdpte' });
  });
});

describe('x86 (2-level, 32-bit entries)', () => {
  function x86(): { memory: SparseMemory; tables: Tables; space: VirtualSpace } {
    const memory = new SparseMemory();
    const tables = new Tables(memory, 'x86', 0x7000, 0x10000);
    const space = new VirtualSpace(memory, { mode: 'x86', dtb: 0x7018 });
    return { memory, tables, space };
  }

  it('clears bits 0–11 of the DTB and walks PD → PT', () => {
    const { tables, space } = x86();
    expect(space.tableBase).toBe(0x7000);
    tables.map(0x80001000n, 0x5000);
    expect(mapped(space.translate(0x80001234n))).toEqual({
      pa: 0x5234,
      pageSize: PAGE,
      viaTransition: false,
    });
  });

  it('maps 4 MiB pages with the PAT bit cleared', () => {
    const { memory, tables, space } = x86();
    tables.set(0x80400000n, 0, 0xc00000n | PAT | 0x83n);
    memory.data(0xc00000 + 0x2d000);
    expect(mapped(space.translate(0x8042d123n))).toEqual({
      pa: 0xc2d123,
      pageSize: 0x400000,
      viaTransition: false,
    });
  });

  it('reads transition PTEs; names prototype and page-file PTEs (offset in bits 12–31)', () => {
    const { memory, tables, space } = x86();
    tables.set(0x80002000n, 1, 0x9000n | 0x800n | (4n << 5n));
    memory.data(0x9000);
    expect(mapped(space.translate(0x80002010n))).toEqual({ pa: 0x9010, pageSize: PAGE, viaTransition: true });
    tables.set(0x80003000n, 1, 0xe1234400n);
    expect(space.translate(0x80003000n)).toMatchObject({ reason: 'prototype', level: 'pte' });
    tables.set(0x80004000n, 1, (0x345n << 12n) | (1n << 1n) | (4n << 5n));
    expect(space.translate(0x80004000n)).toMatchObject({
      reason: 'paged-out',
      pageFile: { index: 1, pageOffset: 0x345 },
    });
    expect(space.translate(0x00400000n)).toMatchObject({ reason: 'not-present', level: 'pde' });
  });
});
