// PE headers from memory: the one parser (parsePeHeaders, the fuzz target "PE headers") reads a
// real header as the builder wrote it, and any crafted header — fields pointing anywhere, an
// optional header smaller than its fixed part, a section table past the bytes — gives headers
// whose every offset lies inside the bytes, or a reason; never an exception. readPe and the
// directory readers built on it, and the PE rebuild of `extract`, inherit that.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SCN_CODE, SCN_DATA, peHeaders } from '../../../../src/builder/windows/pe';
import { ExtractError, MAX_IMAGE_SIZE, rebuildPe, type PageReader } from '../../../../src/core/extract';
import {
  exportName,
  parsePeHeaders,
  readCodeView,
  readExports,
  readPe,
} from '../../../../src/core/kernel/pe';
import type { KernelMemory } from '../../../../src/core/kernel/memory';

const PAGE = 0x1000;
const BASE = 0xfffff80012340000n;

/** Kernel memory where every address reads: the header page repeated (so every pointer lands on bytes). */
function memoryOf(page: Uint8Array): KernelMemory {
  return {
    bytes(va: bigint, length: number): Uint8Array | null {
      const out = new Uint8Array(length);
      const start = Number((va - BASE) & 0xfffn);
      for (let i = 0; i < length; i++) out[i] = page[(start + i) % PAGE]!;
      return out;
    },
  } as unknown as KernelMemory;
}

const readerOf =
  (page: Uint8Array): PageReader =>
  (va) =>
    va === BASE ? { bytes: page } : { status: 'not-present' };

interface Craft {
  length: number;
  lfanew: number;
  machine: number;
  sectionCount: number;
  optionalSize: number;
  magic: number;
  directoryCount: number;
  sizeOfImage: number;
  sizeOfHeaders: number;
  fileAlignment: number;
  debugDirectory: { rva: number; size: number };
  sections: Array<{ virtualAddress: number; virtualSize: number }>;
  noise: Uint8Array;
}

/** A header page with the fields set where a PE header has them; writes past the end are dropped. */
function craft(c: Craft): Uint8Array {
  const page = new Uint8Array(c.noise);
  const view = new DataView(page.buffer);
  const put = (at: number, value: number, size: 2 | 4) => {
    if (at < 0 || at + size > page.length) return;
    if (size === 2) view.setUint16(at, value, true);
    else view.setUint32(at, value >>> 0, true);
  };
  page[0] = 0x4d;
  page[1] = 0x5a;
  put(0x3c, c.lfanew, 4);
  put(c.lfanew, 0x00004550, 4);
  const fileHeader = c.lfanew + 4;
  put(fileHeader, c.machine, 2);
  put(fileHeader + 2, c.sectionCount, 2);
  put(fileHeader + 0x10, c.optionalSize, 2);
  const optional = fileHeader + 0x14;
  const is64 = c.magic === 0x20b;
  put(optional, c.magic, 2);
  put(optional + 0x24, c.fileAlignment, 4);
  put(optional + 0x38, c.sizeOfImage, 4);
  put(optional + 0x3c, c.sizeOfHeaders, 4);
  put(optional + (is64 ? 0x6c : 0x5c), c.directoryCount, 4);
  const debug = optional + (is64 ? 0x70 : 0x60) + 6 * 8;
  put(debug, c.debugDirectory.rva, 4);
  put(debug + 4, c.debugDirectory.size, 4);
  c.sections.forEach((s, i) => {
    const at = optional + c.optionalSize + i * 40;
    put(at + 8, s.virtualSize, 4);
    put(at + 12, s.virtualAddress, 4);
  });
  return page.subarray(0, c.length);
}

/** Mostly near a real header (so the rebuild's own checks are reached), sometimes anything. */
const mostly = <T>(near: fc.Arbitrary<T>, anything: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: near, weight: 4 }, { arbitrary: anything, weight: 1 });

const crafted: fc.Arbitrary<Craft> = fc.record({
  length: mostly(fc.constant(PAGE), fc.integer({ min: 0, max: PAGE })),
  lfanew: mostly(fc.constantFrom(0x40, 0xe8, 0x1c0, 0xef0), fc.integer({ min: 0, max: 0x1100 })),
  machine: fc.constantFrom(0x14c, 0x8664, 0x1c4),
  sectionCount: mostly(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 0xffff })),
  optionalSize: mostly(
    fc.constantFrom(0, 0x10, 0x5c, 0x60, 0x6c, 0x70, 0xe0, 0xf0),
    fc.integer({ min: 0, max: 0xffff }),
  ),
  magic: fc.constantFrom(0x10b, 0x20b),
  directoryCount: mostly(fc.integer({ min: 0, max: 17 }), fc.nat()),
  sizeOfImage: mostly(
    fc.integer({ min: 0, max: 8 }).map((n) => n * PAGE),
    fc.nat(),
  ),
  sizeOfHeaders: mostly(fc.constantFrom(0, 0x200, 0x400, 0x1000), fc.nat()),
  fileAlignment: mostly(fc.constantFrom(0x200, 0x1000, 0x300), fc.nat()),
  debugDirectory: fc.record({
    rva: fc.integer({ min: 0, max: PAGE - 1 }),
    size: mostly(fc.constantFrom(0x1c, 0x38), fc.nat()),
  }),
  sections: fc.array(
    fc.record({
      virtualAddress: mostly(
        fc.integer({ min: 0, max: 8 }).map((n) => n * PAGE),
        fc.nat(),
      ),
      virtualSize: mostly(fc.integer({ min: 0, max: 0x2000 }), fc.nat()),
    }),
    { maxLength: 4 },
  ),
  noise: fc.oneof(fc.constant(new Uint8Array(PAGE)), fc.uint8Array({ minLength: PAGE, maxLength: PAGE })),
});

/** The header of extract's issue: e_lfanew 0x1c0, SizeOfOptionalHeader 0, one empty section, SizeOfHeaders 0x200. */
const issueHeader = (machine: number, magic: number) =>
  craft({
    length: PAGE,
    lfanew: 0x1c0,
    machine,
    sectionCount: 1,
    optionalSize: 0,
    magic,
    directoryCount: 0,
    sizeOfImage: 0x2000,
    sizeOfHeaders: 0x200,
    fileAlignment: 0x200,
    debugDirectory: { rva: 0, size: 0 },
    sections: [{ virtualAddress: 0, virtualSize: 0 }],
    noise: new Uint8Array(PAGE),
  });

describe('parsePeHeaders', () => {
  test("reads the builder's header: machine, sizes, directories and sections where they are", () => {
    const page = peHeaders({
      machine: 'x64',
      imageBase: 0x140000000n,
      sizeOfImage: 0x5000,
      entryRva: 0x1010,
      timeDateStamp: 0x5f000000,
      checksum: 0x1234,
      sections: [
        { name: '.text', rva: 0x1000, virtualSize: 0x1800, characteristics: SCN_CODE },
        { name: '.data', rva: 0x3000, virtualSize: 0x2000, characteristics: SCN_DATA },
      ],
    });
    const parsed = parsePeHeaders(page);
    if (!parsed.ok) throw new Error(parsed.reason);
    const h = parsed.headers;
    const nt = new DataView(page.buffer).getUint32(0x3c, true);
    expect([h.machine, h.is64, h.timeDateStamp, h.checksum, h.entryRva]).toEqual([
      0x8664,
      true,
      0x5f000000,
      0x1234,
      0x1010,
    ]);
    expect([h.sizeOfImage, h.sizeOfHeaders, h.fileAlignment, h.imageBase]).toEqual([
      0x5000,
      0x400,
      0x200,
      0x140000000n,
    ]);
    expect(h.optionalHeaderOffset).toBe(nt + 24);
    expect(h.sectionTableOffset).toBe(nt + 24 + 0xf0);
    expect(h.directories).toHaveLength(16);
    expect(h.sections.map((s) => [s.name, s.virtualAddress, s.virtualSize, s.characteristics])).toEqual([
      ['.text', 0x1000, 0x1800, SCN_CODE],
      ['.data', 0x3000, 0x2000, SCN_DATA],
    ]);
  });

  test('an optional header smaller than its fixed part, or a table past the bytes: a reason', () => {
    expect(parsePeHeaders(issueHeader(0x8664, 0x20b))).toEqual({
      ok: false,
      reason: 'SizeOfOptionalHeader 0 is smaller than the 112 bytes of the PE32+ optional header',
    });
    expect(parsePeHeaders(new Uint8Array(0x20))).toEqual({
      ok: false,
      reason: 'only 32 bytes: no DOS header',
    });
    const page = peHeaders({
      machine: 'x86',
      imageBase: 0x10000n,
      sizeOfImage: 0x2000,
      entryRva: 0x1000,
      timeDateStamp: 0,
      checksum: 0,
      sections: [{ name: '.text', rva: 0x1000, virtualSize: 0x1000, characteristics: SCN_CODE }],
    });
    const parsed = parsePeHeaders(page.subarray(0, 0x200));
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toMatch(/section table .* runs past the 512 bytes/);
  });

  test('any crafted header: headers whose every offset is inside the bytes, or a reason', () => {
    fc.assert(
      fc.property(crafted, (c) => {
        const bytes = craft(c);
        const parsed = parsePeHeaders(bytes);
        if (!parsed.ok) {
          expect(parsed.reason.length).toBeGreaterThan(0);
          return;
        }
        const h = parsed.headers;
        const fixed = h.is64 ? 0x70 : 0x60;
        expect(h.optionalHeaderOffset + fixed).toBeLessThanOrEqual(h.sectionTableOffset);
        expect(h.sectionTableOffset + h.sections.length * 40).toBeLessThanOrEqual(bytes.length);
        expect(h.sections.length).toBeLessThanOrEqual(96);
        expect(h.directories.length).toBeLessThanOrEqual(
          Math.min(16, (h.sectionTableOffset - h.optionalHeaderOffset - fixed) / 8),
        );
      }),
      { numRuns: 3000 },
    );
  });
});

describe('readers built on it', () => {
  test('a CodeView record shorter than its fixed part is no record, not a RangeError', () => {
    const page = peHeaders({
      machine: 'x64',
      imageBase: 0x140000000n,
      sizeOfImage: 0x5000,
      entryRva: 0x1010,
      timeDateStamp: 0,
      checksum: 0,
      sections: [{ name: '.text', rva: 0x1000, virtualSize: 0x1000, characteristics: SCN_CODE }],
    });
    const view = new DataView(page.buffer);
    const debug = view.getUint32(0x3c, true) + 24 + 0x70 + 6 * 8;
    // The debug directory at 0x800: one entry of type 2 (CodeView) whose record is 10 bytes at 0x900.
    view.setUint32(debug, 0x800, true);
    view.setUint32(debug + 4, 0x1c, true);
    view.setUint32(0x800 + 0xc, 2, true);
    view.setUint32(0x800 + 0x10, 10, true);
    view.setUint32(0x800 + 0x14, 0x900, true);
    page.set([0x52, 0x53, 0x44, 0x53], 0x900); // "RSDS"
    const memory = memoryOf(page);
    const pe = readPe(memory, BASE);
    expect(pe).not.toBeNull();
    expect(readCodeView(memory, pe!)).toBeNull();
  });

  test('any crafted header: readPe and the export and debug readers return, never throw', () => {
    fc.assert(
      fc.property(crafted, (c) => {
        const page = new Uint8Array(PAGE);
        page.set(craft(c));
        const memory = memoryOf(page);
        const pe = readPe(memory, BASE);
        if (!pe) return;
        expect(pe.sections.length).toBeLessThanOrEqual(96);
        readCodeView(memory, pe);
        exportName(memory, pe);
        readExports(memory, pe);
      }),
      { numRuns: 1500 },
    );
  });
});

describe("extract's rebuild", () => {
  test("the issue's header: a raw dump with the reason, or an ExtractError; never a RangeError", () => {
    for (const [machine, magic] of [
      [0x8664, 0x20b],
      [0x14c, 0x10b],
    ] as const) {
      const page = issueHeader(machine, magic);
      const raw = rebuildPe(readerOf(page), BASE, 0x2000);
      expect(raw.layout).toBe('raw');
      expect(raw.notes[0]).toMatch(/SizeOfOptionalHeader 0 is smaller than the \d+ bytes/);
      expect(() => rebuildPe(readerOf(page), BASE, null)).toThrow(ExtractError);
      expect(() => rebuildPe(readerOf(page), BASE, null)).toThrow(
        /no PE image at 0x[0-9a-f]+: SizeOfOptionalHeader 0/,
      );
    }
  });

  test('a section over the headers: the headers are kept whole, the file is still a PE', () => {
    const page = peHeaders({
      machine: 'x86',
      imageBase: 0x10000n,
      sizeOfImage: 0x2000,
      entryRva: 0x1000,
      timeDateStamp: 0,
      checksum: 0,
      sections: [{ name: '.text', rva: 0x100, virtualSize: 0x10, characteristics: SCN_CODE }],
    });
    const image = rebuildPe(readerOf(page), BASE, null);
    expect(image.layout).toBe('pe');
    const file = Buffer.from(image.bytes);
    const table = file.readUInt32LE(0x3c) + 24 + 0xe0;
    expect(file.toString('latin1', table, table + 5)).toBe('.text');
    expect(file.readUInt32LE(table + 20)).toBe(image.sections[0]!.pointerToRawData);
    expect(image.sections[0]!.pointerToRawData).toBeGreaterThanOrEqual(table + 40);
  });

  test('any crafted header: a PE file, a raw dump or an ExtractError, within the bound', () => {
    fc.assert(
      fc.property(crafted, fc.option(fc.integer({ min: 1, max: 0x10000 })), (c, fallback) => {
        const page = new Uint8Array(PAGE);
        page.set(craft(c));
        try {
          const image = rebuildPe(readerOf(page), BASE, fallback);
          expect(image.bytes.length).toBeLessThanOrEqual(2 * MAX_IMAGE_SIZE);
        } catch (error) {
          expect(error).toBeInstanceOf(ExtractError);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
