// Walking every mapping: VA order, large pages, transition leaves, range limits, the self-map
// slot, and crafted tables that would never end without the caps.

import { describe, expect, it } from 'vitest';
import { VirtualSpace, type PageMapping } from '../../../../src/core/paging';
import { PAGE, SparseMemory, Tables, tablesOfThemselves } from './memory';

function collect(
  space: VirtualSpace,
  start: bigint,
  end: bigint,
  options = {},
): { list: PageMapping[]; result: ReturnType<VirtualSpace['forEachMapping']> } {
  const list: PageMapping[] = [];
  const result = space.forEachMapping(start, end, (m) => void list.push(m), options);
  return { list, result };
}

describe('forEachMapping on x64', () => {
  const memory = new SparseMemory();
  const tables = new Tables(memory, 'x64', 0x1000, 0x10000);
  tables.set(0n, 0, 0n); // touch nothing: the PML4 page exists
  tables.map(0x10000n, 0x5000, 0x67n);
  tables.set(0xfffff80000000000n, 2, 0x200000n | 0x1000n | 0x83n); // 2 MiB, PAT bit set
  tables.set(0xfffff80000201000n, 3, 0x6000n | 0x800n); // transition leaf
  memory.data(0x6000);
  tables.set(0xfffff80000202000n, 3, 0x1234n << 32n); // paged out: not a mapping
  tables.set(0xfffff80000203000n, 3, 0x9999000n | 0x800n); // transition beyond the image: not a mapping
  tables.map(0xfffff80000204000n, 0x8000);
  // Windows' self-map: PML4[0x1ED] points at the PML4 itself.
  tables.writeEntry(0x1000 + 0x1ed * 8, 0x1000n | 0x63n);
  const space = new VirtualSpace(memory, { mode: 'x64', dtb: 0x1000 });

  it('reports every mapping in VA order, with large pages once and transition leaves marked', () => {
    const { list, result } = collect(space, 0n, 1n << 64n, { skipTopLevel: [0x1ed] });
    expect(list).toEqual([
      { va: 0x10000n, pa: 0x5000, size: PAGE, viaTransition: false, inImage: true },
      { va: 0xfffff80000000000n, pa: 0x200000, size: 0x200000, viaTransition: false, inImage: false },
      { va: 0xfffff80000201000n, pa: 0x6000, size: PAGE, viaTransition: true, inImage: true },
      { va: 0xfffff80000204000n, pa: 0x8000, size: PAGE, viaTransition: false, inImage: true },
    ]);
    expect(result).toMatchObject({ mappings: 4, stopped: false, missingTables: 0 });
    expect(result.truncated).toBeUndefined();
    for (const m of list.filter((x) => x.size === PAGE)) {
      const t = space.translate(m.va);
      expect(t.ok && t.pa).toBe(m.pa);
    }
  });

  it('limits the walk to the range asked for', () => {
    const { list } = collect(space, 0xfffff80000201000n, 0xfffff80000204000n, { skipTopLevel: [0x1ed] });
    expect(list.map((m) => m.va)).toEqual([0xfffff80000201000n]);
    const { list: lower } = collect(space, 0n, 0x0000800000000000n);
    expect(lower.map((m) => m.va)).toEqual([0x10000n]);
  });

  it('walks the self-map when asked to, and stays bounded', () => {
    const { list, result } = collect(space, 0n, 1n << 64n);
    expect(list.length).toBeGreaterThan(4);
    expect(list.some((m) => m.va >= 0xfffff68000000000n && m.va < 0xfffff70000000000n)).toBe(true);
    expect(result.truncated).toBeUndefined();
  });

  it('stops when the callback returns false', () => {
    let calls = 0;
    const result = space.forEachMapping(0n, 1n << 64n, () => ++calls < 2, { skipTopLevel: [0x1ed] });
    expect(calls).toBe(2);
    expect(result.stopped).toBe(true);
  });
});

describe('forEachMapping on crafted tables', () => {
  it('refuses a table whose entries all point at itself (one repeated value)', () => {
    const memory = new SparseMemory();
    memory.page(1);
    for (let i = 0; i < 512; i++) memory.write64(0x1000 + i * 8, 0x1000n | 0x3n);
    const space = new VirtualSpace(memory, { mode: 'x64', dtb: 0x1000 });
    const { list, result } = collect(space, 0n, 1n << 64n);
    expect(list.length).toBe(0);
    expect(result.invalidTables).toBe(1);
  });

  it('ends with a reported truncation when nearly every entry points back at the same table', () => {
    const space = tablesOfThemselves();
    const capped = collect(space, 0n, 1n << 64n, { maxMappings: 5000 });
    expect(capped.result.truncated).toBe('max-mappings');
    expect(capped.list.length).toBe(5000);
    const byTables = collect(space, 0n, 1n << 64n, { maxTables: 50 });
    expect(byTables.result.truncated).toBe('max-tables');
    expect(byTables.result.tablesVisited).toBe(50);
    // With the documented defaults (4,194,304 callbacks, 65,536 tables) the mapping cap ends it:
    // every table read yields 511 more. How long that takes is a figure of npm run bench.
    let count = 0;
    const defaults = space.forEachMapping(0n, 1n << 64n, () => void count++);
    expect(defaults).toMatchObject({ truncated: 'max-mappings', mappings: 4_194_304 });
    expect(count).toBe(4_194_304);
    expect(defaults.tablesVisited).toBeLessThanOrEqual(65_536);
  });

  it('skips subtrees whose table is not in the image', () => {
    const memory = new SparseMemory();
    const tables = new Tables(memory, 'x64', 0x1000, 0x10000);
    tables.map(0x1000n, 0x5000);
    tables.set(0xffff900000000000n, 0, 0x900000n | 3n);
    const space = new VirtualSpace(memory, { mode: 'x64', dtb: 0x1000 });
    const { list, result } = collect(space, 0n, 1n << 64n);
    expect(list.map((m) => m.va)).toEqual([0x1000n]);
    expect(result.missingTables).toBe(1);
  });
});

describe('forEachMapping on 32-bit modes', () => {
  it('x86: 4 MiB pages and 4 KiB pages', () => {
    const memory = new SparseMemory();
    const tables = new Tables(memory, 'x86', 0x7000, 0x10000);
    tables.set(0x80000000n, 0, 0x400000n | 0x83n);
    tables.map(0x80400000n, 0x5000);
    tables.map(0xffdf0000n, 0x6000);
    const space = new VirtualSpace(memory, { mode: 'x86', dtb: 0x7000 });
    const { list } = collect(space, 0n, 1n << 32n);
    expect(list.map((m) => [m.va, m.pa, m.size])).toEqual([
      [0x80000000n, 0x400000, 0x400000],
      [0x80400000n, 0x5000, PAGE],
      [0xffdf0000n, 0x6000, PAGE],
    ]);
  });

  it('PAE: four PDPT entries, 2 MiB and 4 KiB pages', () => {
    const memory = new SparseMemory();
    const tables = new Tables(memory, 'pae', 0x3000, 0x10000);
    tables.map(0x00010000n, 0x5000);
    tables.set(0x80000000n, 1, 0x200000n | 0x83n);
    tables.map(0xc0001000n, 0x6000);
    const space = new VirtualSpace(memory, { mode: 'pae', dtb: 0x3000 });
    const { list } = collect(space, 0n, 1n << 32n);
    expect(list.map((m) => [m.va, m.pa, m.size])).toEqual([
      [0x10000n, 0x5000, PAGE],
      [0x80000000n, 0x200000, 0x200000],
      [0xc0001000n, 0x6000, PAGE],
    ]);
  });
});
