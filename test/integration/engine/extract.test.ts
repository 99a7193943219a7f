// Extracting drivers and modules against the image itself: for every shared ISF build and x86
// profile, every module of the infected image (hidden and unlinked ones too) is extracted through
// the engine a session worker uses, then read back with a PE reader of the test's own and
// compared, page by page, with the image file read through the test's independent page walk:
// every resident page is in the file where its section says, every absent page is listed, and
// the headers are the builder's (machine, TimeDateStamp, section names and addresses).

import { describe, expect, test } from 'vitest';
import { X86_PROFILES, type BuildImageOptions } from '../../../src/builder/index';
import type { TruthModule } from '../../../src/builder/truth';
import { openEngine } from '../../../src/core/node/engine';
import { resolveTarget, type ExtractedImage } from '../../../src/core/extract';
import { imageForTest, isfFiles } from '../../support/images';
import { RawImage, translate } from '../../support/raw-reader';

const PAGE = 0x1000;
const layouts: Array<{ label: string } & Pick<BuildImageOptions, 'isf' | 'profile'>> = [
  ...isfFiles(),
  ...X86_PROFILES.map((profile) => ({ label: profile, profile })),
];

interface ParsedPe {
  machine: number;
  timeDateStamp: number;
  imageBase: bigint;
  entryPoint: number;
  sizeOfImage: number;
  sections: Array<{ name: string; va: number; vsize: number; raw: number; rawSize: number }>;
}

/** A PE reader of the test's own (Microsoft PE format), sharing nothing with the engine. */
function parsePe(file: Buffer): ParsedPe {
  expect(file.toString('latin1', 0, 2)).toBe('MZ');
  const nt = file.readUInt32LE(0x3c);
  expect(file.toString('latin1', nt, nt + 4)).toBe('PE\0\0');
  const count = file.readUInt16LE(nt + 6);
  const optional = nt + 24;
  const is64 = file.readUInt16LE(optional) === 0x20b;
  const table = optional + file.readUInt16LE(nt + 20);
  const sections = Array.from({ length: count }, (_, i) => {
    const at = table + i * 40;
    return {
      name: file.toString('latin1', at, at + 8).replace(/\0+$/, ''),
      vsize: file.readUInt32LE(at + 8),
      va: file.readUInt32LE(at + 12),
      rawSize: file.readUInt32LE(at + 16),
      raw: file.readUInt32LE(at + 20),
    };
  });
  return {
    machine: file.readUInt16LE(nt + 4),
    timeDateStamp: file.readUInt32LE(nt + 8),
    imageBase: is64 ? file.readBigUInt64LE(optional + 24) : BigInt(file.readUInt32LE(optional + 28)),
    entryPoint: file.readUInt32LE(optional + 16),
    sizeOfImage: file.readUInt32LE(optional + 56),
    sections,
  };
}

function missingPages(image: ExtractedImage): Set<number> {
  const pages = new Set<number>();
  for (const range of image.missing)
    for (let rva = range.rva; rva < range.rva + range.size; rva += PAGE) pages.add(rva / PAGE);
  return pages;
}

function checkAgainstImage(
  raw: RawImage,
  walk: (va: bigint) => number | null,
  module: TruthModule,
  extracted: ExtractedImage,
): void {
  const base = BigInt(module.base);
  const file = Buffer.from(extracted.bytes);
  const resident = (rva: number) => walk(base + BigInt(rva)) !== null;
  const pageBytes = (rva: number) => raw.read(walk(base + BigInt(rva))!, PAGE);
  const size = extracted.layout === 'pe' ? extracted.sizeOfImage : Math.ceil(module.size / PAGE) * PAGE;
  const absent = new Set<number>();
  for (let rva = 0; rva < size; rva += PAGE) if (!resident(rva)) absent.add(rva / PAGE);
  expect(missingPages(extracted), `${module.name}: absent pages`).toEqual(absent);

  if (!resident(0)) {
    // No headers to rebuild from: the memory as it was.
    expect(extracted.layout).toBe('raw');
    for (let rva = 0; rva < size; rva += PAGE)
      if (resident(rva)) expect(file.subarray(rva, rva + PAGE).equals(pageBytes(rva))).toBe(true);
    return;
  }
  expect(extracted.layout, module.name).toBe('pe');
  const pe = parsePe(file);
  const header = pageBytes(0);
  const nt = header.readUInt32LE(0x3c);
  expect(pe.machine).toBe(header.readUInt16LE(nt + 4));
  expect(pe.timeDateStamp).toBe(module.timeDateStamp);
  expect(pe.imageBase).toBe(base);
  expect(pe.sizeOfImage).toBe(module.size);
  expect(pe.entryPoint).toBeLessThan(pe.sizeOfImage);
  expect(pe.sections.map((s) => [s.name, s.va])).toEqual(
    Array.from({ length: header.readUInt16LE(nt + 6) }, (_, i) => {
      const at = nt + 24 + header.readUInt16LE(nt + 20) + i * 40;
      return [header.toString('latin1', at, at + 8).replace(/\0+$/, ''), header.readUInt32LE(at + 12)];
    }),
  );
  let compared = 0;
  for (const section of pe.sections) {
    expect(section.raw + section.rawSize).toBeLessThanOrEqual(file.length);
    for (let offset = 0; offset < section.vsize; offset += PAGE) {
      const rva = section.va + offset;
      const length = Math.min(PAGE, section.vsize - offset);
      const inFile = file.subarray(section.raw + offset, section.raw + offset + length);
      if (resident(rva)) {
        expect(
          inFile.equals(pageBytes(rva).subarray(0, length)),
          `${module.name} ${section.name}+${offset}`,
        ).toBe(true);
        compared++;
      } else expect(inFile.every((b) => b === 0)).toBe(true);
    }
  }
  expect(compared).toBeGreaterThan(0);
}

describe.each(layouts)('extract $label', ({ isf, profile }) => {
  test('every module, hidden and unlinked too, equals the image page by page', async () => {
    const { image, truth } = imageForTest({
      isf,
      profile,
      format: 'raw',
      scenario: 'infected',
      size: 64 * 1024 * 1024,
      seed: 35,
      fill: 'random',
    });
    const engine = await openEngine(image, { analyzeAfterOpen: true }, () => undefined);
    const raw = new RawImage(image);
    try {
      const result = await engine.analyze(() => undefined, new AbortController().signal);
      const walk = (va: bigint) => translate(raw, truth.paging, Number(truth.dtb), va);
      expect(truth.modules.some((m) => m.unlinked)).toBe(true);
      let rebuilt = 0;
      for (const module of truth.modules) {
        const target = resolveTarget(result, { address: BigInt(module.base) });
        expect(target.base, module.name).toBe(BigInt(module.base));
        const extracted = engine.extractImage(target.base, target.size);
        checkAgainstImage(raw, walk, module, extracted);
        if (extracted.layout === 'pe') rebuilt++;
      }
      expect(rebuilt).toBeGreaterThan(truth.modules.length / 2);

      // A driver by its name is its module's image.
      const disk = truth.drivers.find((d) => d.name === '\\Driver\\Disk')!;
      const byDriver = resolveTarget(result, { driver: '\\Driver\\Disk' });
      expect(byDriver.base).toBe(BigInt(disk.start));
      expect(byDriver.fileName).toBe(truth.modules.find((m) => BigInt(m.base) === BigInt(disk.start))!.name);
    } finally {
      raw.close();
      engine.close();
    }
  });
});
