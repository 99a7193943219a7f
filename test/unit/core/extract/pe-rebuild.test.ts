// The PE rebuild on images made here from the builder's PE headers: sections laid back to file
// alignment with the memory's bytes, absent pages listed and zero-filled, ImageBase moved to the
// load address; and crafted headers (far e_lfanew, no sections, huge SizeOfImage, overlapping
// sections, odd alignment, an absent first page) end in an error or a raw dump with the reason,
// never in a large allocation.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SCN_CODE, SCN_DATA, SCN_RDATA, peHeaders } from '../../../../src/builder/windows/pe';
import {
  ExtractError,
  MAX_IMAGE_SIZE,
  rebuildPe,
  type PageReader,
  type RebuiltImage,
} from '../../../../src/core/extract';
import { withSha256 } from '../../../../src/core/node/extract-from-image';

const PAGE = 0x1000;
const BASE = 0xfffff80012340000n;

function loadedImage(): Map<number, Uint8Array> {
  const headers = peHeaders({
    machine: 'x64',
    imageBase: 0x140000000n,
    sizeOfImage: 0x6000,
    entryRva: 0x1010,
    timeDateStamp: 0x5f000000,
    checksum: 0x1234,
    sections: [
      { name: '.text', rva: 0x1000, virtualSize: 0x1800, characteristics: SCN_CODE },
      { name: '.rdata', rva: 0x3000, virtualSize: 0x100, characteristics: SCN_RDATA },
      { name: '.data', rva: 0x4000, virtualSize: 0x2000, characteristics: SCN_DATA },
    ],
  });
  const pages = new Map<number, Uint8Array>();
  pages.set(0, headers);
  for (let page = 1; page < 6; page++) pages.set(page, new Uint8Array(PAGE).fill(0x10 + page));
  return pages;
}

function readerOf(pages: Map<number, Uint8Array>, base = BASE): PageReader {
  return (va) => {
    const page = pages.get(Number((va - base) / BigInt(PAGE)));
    return page ? { bytes: page } : { status: 'paged-out' };
  };
}

describe('rebuildPe', () => {
  test('lays the sections back to file alignment with the bytes from memory', () => {
    const pages = loadedImage();
    pages.delete(5); // the second page of .data is paged out
    const image = rebuildPe(readerOf(pages), BASE, null);
    expect(image.layout).toBe('pe');
    expect(image.machine).toBe('x64');
    expect(image.sections.map((s) => [s.name, s.pointerToRawData, s.sizeOfRawData])).toEqual([
      ['.text', 0x400, 0x1800],
      ['.rdata', 0x1c00, 0x200],
      ['.data', 0x1e00, 0x2000],
    ]);
    const file = Buffer.from(image.bytes);
    expect(file.length).toBe(0x3e00);
    expect(file.subarray(0x400, 0x1400).every((b) => b === 0x11)).toBe(true);
    expect(file.subarray(0x1400, 0x1c00).every((b) => b === 0x12)).toBe(true);
    expect(file.subarray(0x1c00, 0x1d00).every((b) => b === 0x13)).toBe(true);
    expect(file.subarray(0x1e00, 0x2e00).every((b) => b === 0x14)).toBe(true);
    expect(file.subarray(0x2e00, 0x3e00).every((b) => b === 0)).toBe(true);
    expect(image.missing).toEqual([{ rva: 0x5000, size: 0x1000, where: '.data', status: 'paged-out' }]);
    // The section table and ImageBase as a disassembler reads them.
    const nt = file.readUInt32LE(0x3c);
    expect(file.readBigUInt64LE(nt + 24 + 24)).toBe(BASE);
    const table = nt + 24 + file.readUInt16LE(nt + 20);
    expect(file.readUInt32LE(table + 40 + 20)).toBe(0x1c00);
  });

  test('no headers in memory: the raw memory with the reason, or an error without a size', () => {
    const pages = loadedImage();
    pages.delete(0);
    const raw = rebuildPe(readerOf(pages), BASE, 0x6000);
    expect(raw.layout).toBe('raw');
    expect(raw.bytes.length).toBe(0x6000);
    expect(raw.missing[0]).toMatchObject({ rva: 0, size: PAGE, status: 'paged-out' });
    expect(raw.notes[0]).toMatch(/its first page is paged-out/);
    expect(() => rebuildPe(readerOf(pages), BASE, null)).toThrow(ExtractError);
    expect(() => rebuildPe(readerOf(new Map()), BASE, 0x6000)).toThrow(/nothing of the image/);
    expect(() => rebuildPe(readerOf(pages), BASE + 8n, 0x6000)).toThrow(/page-aligned/);
  });

  test('crafted headers are bounded', () => {
    const craft = (change: (view: DataView, nt: number) => void): Map<number, Uint8Array> => {
      const pages = loadedImage();
      const header = new Uint8Array(pages.get(0)!);
      const view = new DataView(header.buffer);
      change(view, view.getUint32(0x3c, true));
      pages.set(0, header);
      return pages;
    };
    const optional = (nt: number) => nt + 24;
    // e_lfanew far away, no sections, SizeOfImage of 4 GiB: not a PE image we can rebuild.
    for (const change of [
      (v: DataView) => v.setUint32(0x3c, 0x7fffffff, true),
      (v: DataView, nt: number) => v.setUint16(nt + 6, 0, true),
      (v: DataView, nt: number) => v.setUint32(optional(nt) + 56, 0xfffff000, true),
    ]) {
      expect(() => rebuildPe(readerOf(craft(change)), BASE, null)).toThrow(ExtractError);
      expect(rebuildPe(readerOf(craft(change)), BASE, 0x6000).layout).toBe('raw');
    }
    // Every section covering the whole image many times over: a raw dump, not gigabytes.
    const overlapping = craft((v, nt) => {
      const table = optional(nt) + v.getUint16(nt + 20, true);
      for (let i = 0; i < 3; i++) {
        v.setUint32(table + i * 40 + 8, 0x6000, true);
        v.setUint32(table + i * 40 + 12, 0, true);
      }
    });
    const dump = rebuildPe(readerOf(overlapping), BASE, null);
    expect(dump.layout).toBe('raw');
    expect(dump.notes[0]).toMatch(/sections overlap/);
    // An odd FileAlignment is replaced, and said.
    const odd = rebuildPe(
      readerOf(craft((v, nt) => v.setUint32(optional(nt) + 36, 0x300, true))),
      BASE,
      null,
    );
    expect(odd.notes.some((n) => /FileAlignment 768/.test(n))).toBe(true);
    expect(odd.sections[0]!.pointerToRawData % 0x200).toBe(0);
  });

  test('any first page: a result or an ExtractError, never more than the bound', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: PAGE, maxLength: PAGE }),
        fc.integer({ min: 0, max: 0x200 }),
        fc.integer({ min: 0, max: 0x1000 }),
        (noise, lfanew, sizeOfImagePages) => {
          const page = new Uint8Array(noise);
          page[0] = 0x4d;
          page[1] = 0x5a;
          new DataView(page.buffer).setUint32(0x3c, lfanew, true);
          if (lfanew + 4 <= PAGE) page.set([0x50, 0x45, 0, 0], lfanew);
          if (lfanew + 24 + 60 <= PAGE)
            new DataView(page.buffer).setUint32(lfanew + 24 + 56, sizeOfImagePages * PAGE, true);
          const pages = new Map([[0, page]]);
          try {
            const image = rebuildPe(readerOf(pages), BASE, 0x3000);
            expect(image.bytes.length).toBeLessThanOrEqual(2 * MAX_IMAGE_SIZE);
          } catch (error) {
            expect(error).toBeInstanceOf(ExtractError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('withSha256', () => {
  test('adds the SHA-256 of the file bytes and keeps every other field', () => {
    const image: RebuiltImage = {
      layout: 'raw',
      base: BASE,
      bytes: new TextEncoder().encode('abc'),
      machine: null,
      sizeOfImage: 3,
      entryPoint: null,
      timeDateStamp: null,
      sections: [],
      imports: null,
      missing: [],
      notes: ['n'],
    };
    // FIPS 180-2, appendix B.1: SHA-256("abc").
    expect(withSha256(image)).toEqual({
      ...image,
      sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    });
  });
});
