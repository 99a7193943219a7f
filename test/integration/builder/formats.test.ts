// Every container format holds the same physical memory as the raw image of the same build, at
// the file offsets its own headers give (spec §5), and the same arguments give the same bytes.

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, onTestFinished, test } from 'vitest';
import { buildImage, type BuildImageOptions, type Truth } from '../../../src/builder/index';
import { RawImage } from '../../support/raw-reader';
import { ISF_19041 } from '../../support/shared';

const ISF = ISF_19041;
const SIZE = 64 * 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), 'irpscope-formats-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  pa: number;
  offset: number;
  length: number;
}

/** PA runs of a crash dump from its header (full: run list; bitmap: summary + bitmap). */
function dumpRuns(file: Buffer): { runs: Run[]; dtb: bigint; dumpType: number } {
  expect(file.toString('latin1', 0, 4)).toBe('PAGE');
  const is64 = file.toString('latin1', 4, 8) === 'DU64';
  const headerSize = is64 ? 0x2000 : 0x1000;
  const dumpType = file.readUInt32LE(is64 ? 0xf98 : 0xf88);
  const dtb = is64 ? file.readBigUInt64LE(0x10) : BigInt(file.readUInt32LE(0x10));
  const runs: Run[] = [];
  if (dumpType === 1) {
    const count = file.readUInt32LE(is64 ? 0x88 : 0x64);
    let offset = headerSize;
    for (let i = 0; i < count; i++) {
      const base = is64 ? Number(file.readBigUInt64LE(0x98 + i * 16)) : file.readUInt32LE(0x6c + i * 8);
      const pages = is64 ? Number(file.readBigUInt64LE(0xa0 + i * 16)) : file.readUInt32LE(0x70 + i * 8);
      runs.push({ pa: base * 0x1000, offset, length: pages * 0x1000 });
      offset += pages * 0x1000;
    }
  } else {
    expect(file.toString('latin1', headerSize, headerSize + 4)).toBe('SDMP');
    let offset = Number(file.readBigUInt64LE(headerSize + 0x20));
    const bits = Number(file.readBigUInt64LE(headerSize + 0x30));
    for (let pfn = 0; pfn < bits; pfn++) {
      if (file[headerSize + 0x38 + (pfn >> 3)]! & (1 << (pfn & 7))) {
        runs.push({ pa: pfn * 0x1000, offset, length: 0x1000 });
        offset += 0x1000;
      }
    }
  }
  return { runs, dtb, dumpType };
}

/** Regions of a VMware .vmss "memory" group (spec §5.3). */
function vmwareRuns(vmss: Buffer): Run[] {
  const groups = vmss.readUInt32LE(8);
  let tags = -1;
  for (let g = 0; g < groups; g++) {
    if (vmss.toString('latin1', 12 + g * 80, 12 + g * 80 + 64).replace(/\0+$/, '') === 'memory')
      tags = Number(vmss.readBigUInt64LE(12 + g * 80 + 64));
  }
  const values = new Map<string, number>();
  for (let at = tags; vmss[at] !== 0 || vmss[at + 1] !== 0;) {
    const flags = vmss[at]!;
    const nameLength = vmss[at + 1]!;
    const name = vmss.toString('latin1', at + 2, at + 2 + nameLength);
    const indices = (flags >> 6) & 3;
    const index = indices ? vmss.readUInt32LE(at + 2 + nameLength) : -1;
    const dataAt = at + 2 + nameLength + indices * 4;
    values.set(`${name}/${index}`, vmss.readUInt32LE(dataAt));
    at = dataAt + (flags & 0x3f);
  }
  return Array.from({ length: values.get('regionsCount/-1')! }, (_, i) => ({
    pa: values.get(`regionPPN/${i}`)! * 0x1000,
    offset: values.get(`regionPageNum/${i}`)! * 0x1000,
    length: values.get(`regionSize/${i}`)! * 0x1000,
  }));
}

/** PT_LOAD runs and the QEMU notes' CR3 of an ELF core (spec §5.4). */
function elfRuns(file: Buffer): { runs: Run[]; cr3: bigint[] } {
  const is64 = file[4] === 2;
  const phoff = is64 ? Number(file.readBigUInt64LE(0x20)) : file.readUInt32LE(0x1c);
  const phentsize = file.readUInt16LE(is64 ? 0x36 : 0x2a);
  const phnum = file.readUInt16LE(is64 ? 0x38 : 0x2c);
  const runs: Run[] = [];
  const cr3: bigint[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const type = file.readUInt32LE(at);
    const offset = is64 ? Number(file.readBigUInt64LE(at + 8)) : file.readUInt32LE(at + 4);
    const paddr = is64 ? Number(file.readBigUInt64LE(at + 0x18)) : file.readUInt32LE(at + 0xc);
    const size = is64 ? Number(file.readBigUInt64LE(at + 0x20)) : file.readUInt32LE(at + 0x10);
    if (type === 1) runs.push({ pa: paddr, offset, length: size });
    if (type === 4) {
      for (let n = offset; n < offset + size;) {
        const nameSize = file.readUInt32LE(n);
        const descSize = file.readUInt32LE(n + 4);
        const name = file.toString('latin1', n + 12, n + 12 + nameSize - 1);
        const desc = n + 12 + Math.ceil(nameSize / 4) * 4;
        if (name === 'QEMU') cr3.push(file.readBigUInt64LE(desc + 0x1a0));
        n = desc + Math.ceil(descSize / 4) * 4;
      }
    }
  }
  return { runs, cr3 };
}

function samplePages(truth: Truth): number[] {
  const pages = [Number(BigInt(truth.dtb)) & ~0xfff, 0x13000, 0x100000];
  for (const run of truth.physicalRuns) {
    const start = Number(BigInt(run.start));
    for (let k = 1; k <= 6; k++) pages.push(start + Math.floor((run.length * k) / 7 / 0x1000) * 0x1000);
  }
  return pages;
}

function compareWithRaw(raw: RawImage, container: Buffer, runs: Run[], truth: Truth): void {
  for (const pa of samplePages(truth)) {
    const run = runs.find((r) => pa >= r.pa && pa < r.pa + r.length);
    if (!run) continue;
    const at = run.offset + (pa - run.pa);
    expect(container.subarray(at, at + 0x1000).equals(raw.read(pa, 0x1000)), `page ${pa.toString(16)}`).toBe(
      true,
    );
  }
  const covered = runs.reduce((n, r) => n + r.length, 0);
  const ram = truth.physicalRuns.reduce((n, r) => n + r.length, 0);
  expect(covered).toBeGreaterThanOrEqual(ram);
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe.each([
  { label: 'x64 19041', isf: ISF, profile: undefined },
  { label: 'x86 XP PAE', isf: undefined, profile: 'xp-sp3-x86' },
  { label: 'x86 2003', isf: undefined, profile: '2003-sp2-x86' },
])('formats of $label', ({ label, isf, profile }) => {
  const base: Omit<BuildImageOptions, 'format' | 'out'> = {
    isf,
    profile,
    scenario: 'infected',
    size: SIZE,
    seed: 5,
    fill: 'random',
  };
  const build = (format: BuildImageOptions['format']) => {
    const out = join(work, `${label}-${format}`);
    onTestFinished(() => rmSync(out, { recursive: true, force: true }));
    return buildImage({ ...base, format, out });
  };

  test('dmp-full, dmp-bitmap, vmware and elf hold the raw image pages where their headers say', () => {
    const raw = build('raw');
    const reference = new RawImage(raw.image);
    try {
      const full = build('dmp-full');
      const fullFile = readFileSync(full.image);
      const parsedFull = dumpRuns(fullFile);
      expect(parsedFull.dumpType).toBe(1);
      expect(parsedFull.dtb).toBe(BigInt(raw.truth.dtb));
      compareWithRaw(reference, fullFile, parsedFull.runs, raw.truth);

      const bitmap = build('dmp-bitmap');
      const bitmapFile = readFileSync(bitmap.image);
      const parsedBitmap = dumpRuns(bitmapFile);
      expect(parsedBitmap.dumpType).toBe(5);
      compareWithRaw(reference, bitmapFile, parsedBitmap.runs, raw.truth);

      const vmware = build('vmware');
      compareWithRaw(
        reference,
        readFileSync(vmware.image),
        vmwareRuns(readFileSync(vmware.files[1]!)),
        raw.truth,
      );

      const elf = build('elf');
      const elfFile = readFileSync(elf.image);
      const parsedElf = elfRuns(elfFile);
      expect(parsedElf.cr3.length).toBeGreaterThan(0);
      for (const cr3 of parsedElf.cr3) expect(cr3).toBe(BigInt(raw.truth.dtb));
      compareWithRaw(reference, elfFile, parsedElf.runs, raw.truth);

      // The truth is the same whatever the container.
      for (const result of [full, bitmap, vmware, elf]) {
        expect({ ...result.truth, generator: null }).toEqual({ ...raw.truth, generator: null });
      }
    } finally {
      reference.close();
    }
  });
});

test('the same arguments give byte-identical files; another seed gives others', () => {
  const options = {
    isf: ISF,
    format: 'dmp-bitmap' as const,
    scenario: 'infected' as const,
    size: SIZE,
    fill: 'random' as const,
  };
  for (const name of ['det-a', 'det-b', 'det-c'])
    onTestFinished(() => rmSync(join(work, name), { recursive: true, force: true }));
  const a = buildImage({ ...options, seed: 9, out: join(work, 'det-a') });
  const b = buildImage({ ...options, seed: 9, out: join(work, 'det-b') });
  const c = buildImage({ ...options, seed: 10, out: join(work, 'det-c') });
  expect(sha(a.image)).toBe(sha(b.image));
  expect(sha(a.files[1]!)).toBe(sha(b.files[1]!));
  expect(sha(a.image)).not.toBe(sha(c.image));
  expect(existsSync(join(work, 'det-a', 'image.dmp'))).toBe(true);
});

test('the same symbol file by another path gives the same image', () => {
  // The boot's randomness was keyed by the ISF's path: `../shared/isf/…` and `/work/shared/isf/…`
  // built two different systems from one file.
  const linked = join(work, 'isf-by-another-path');
  symlinkSync(dirname(ISF), linked);
  for (const name of ['path-a', 'path-b', 'isf-by-another-path'])
    onTestFinished(() => rmSync(join(work, name), { recursive: true, force: true }));
  const options = { format: 'raw' as const, scenario: 'clean' as const, size: SIZE, seed: 9 };
  const a = buildImage({ ...options, isf: ISF, out: join(work, 'path-a') });
  const b = buildImage({ ...options, isf: join(linked, basename(ISF)), out: join(work, 'path-b') });
  expect(sha(b.image)).toBe(sha(a.image));
});
