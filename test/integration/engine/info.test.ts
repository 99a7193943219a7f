// `info` against the builder's ground truth: every shared ISF build and x86 profile, every
// container format, and the routes that remain when the cheap ones are absent.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { X86_PROFILES, type BuildImageOptions, type Truth } from '../../../src/builder/index';
import type { ImageInfo } from '../../../src/common/model';
import { imageInfo } from '../../../src/core/node/info';
import { SHARED, imageForTest, isfFiles } from '../../support/images';

const SIZE = 64 * 1024 * 1024;

function expectMatchesTruth(info: ImageInfo, truth: Truth): void {
  expect(info.warnings.filter((w) => !/read as raw/.test(w))).toEqual([]);
  expect(info.arch).toBe(truth.arch);
  expect(info.paging).toBe(truth.paging);
  expect(BigInt(info.dtb!.value) & ~0x1fn).toBe(BigInt(truth.dtb));
  expect(info.kernelBase?.value).toBe(truth.kernelBase);
  expect(info.build?.value.number).toBe(truth.build);
  expect(info.build?.value.major).toBe(truth.version.major);
  expect(info.build?.value.minor).toBe(truth.version.minor);
  expect(info.pdb).toEqual({ name: truth.pdb.name, guid: truth.pdb.guid, age: truth.pdb.age });
  expect(info.kdbg?.value).toEqual({ va: truth.kdbg, encoded: truth.kdbgEncoded });
  // An encoded block's keys come from KdCopyDataBlock where the kernel's own code calls it.
  if (truth.kdbgEncoded)
    expect(info.kdbg?.method).toMatch(
      /KdCopyDataBlock, called from the exported KeCapturePersistentThreadState/,
    );
  expect(info.psLoadedModuleList?.value).toBe(truth.psLoadedModuleList);
  expect(info.psActiveProcessHead?.value).toBe(truth.psActiveProcessHead);
  expect(info.objectRootDirectory?.value).toBe(truth.objectRootDirectory);
  expect(info.obHeaderCookie?.value ?? null).toBe(truth.obHeaderCookie);
  expect(info.typeIndex?.value ?? null).toEqual(truth.typeIndex);
  expect(info.profile?.source).toBe('builtin');
}

const layouts: Array<{ label: string } & Pick<BuildImageOptions, 'isf' | 'profile'>> = [
  ...isfFiles(),
  ...X86_PROFILES.map((profile) => ({ label: profile, profile })),
];

// Every shared build and profile in every container format.
const FORMATS = ['raw', 'dmp-full', 'dmp-bitmap', 'vmware', 'elf'] as const;

describe.each(layouts)('info on $label', ({ isf, profile }) => {
  test.each(FORMATS)('%s', async (format) => {
    const { image, truth } = imageForTest({
      isf,
      profile,
      format,
      scenario: 'infected',
      size: SIZE,
      seed: 21,
      fill: 'zero',
    });
    const info = await imageInfo(image);
    expectMatchesTruth(info, truth);
    if (format.startsWith('dmp')) expect(info.dtb?.method).toMatch(/header/);
    if (format === 'elf') expect(info.dtb?.method).toMatch(/QEMU|CR3 of CPU/);
  });
});

test('without the low stub, the x64 DTB comes from the self-map scan', async () => {
  const isf = isfFiles().find((f) => f.isf.includes('1C9875F7'))!.isf;
  const { image, truth } = imageForTest({
    isf,
    format: 'raw',
    scenario: 'clean',
    size: SIZE,
    seed: 23,
    fill: 'random',
    lowStub: false,
  });
  const info = await imageInfo(image);
  expectMatchesTruth(info, truth);
  expect(info.dtb?.method).toMatch(/self-map scan/);
  expect(info.kernelBase?.method).toMatch(/large-page window/);
});

test('with the ISF symbol directory, the layouts come from the matching ISF file', async () => {
  const isf = isfFiles().find((f) => f.isf.includes('8B11040A'))!.isf;
  const { image, truth } = imageForTest({
    isf,
    format: 'raw',
    scenario: 'infected',
    size: SIZE,
    seed: 21,
    fill: 'zero',
  });
  const info = await imageInfo(image, { symbols: `${SHARED}/isf` });
  expect(info.profile?.source).toBe('isf');
  expect(info.profile?.path).toContain('8B11040A5928757B11390AC78F6B6925-1.json.xz');
  expect(info.kdbg?.value.va).toBe(truth.kdbg);
  expect(info.obHeaderCookie?.value).toBe(truth.obHeaderCookie);
});

/**
 * BugCheckParameter1-4 of a DUMP_HEADER64 (+0x40), read from the file itself, each in plain hex (a
 * callback that passed map's index as hex's width once padded the third and fourth: "0x00").
 */
function bugCheckParameters(path: string): string[] {
  const header = readFileSync(path).subarray(0x40, 0x60);
  return [0, 8, 16, 24].map((at) => `0x${header.readBigUInt64LE(at).toString(16)}`);
}

test("a built crash dump's bug-check parameters, each as the header holds it", async () => {
  const { image } = imageForTest({
    isf: isfFiles()[0]!.isf,
    format: 'dmp-bitmap',
    scenario: 'clean',
    size: 64 * 1024 * 1024,
    seed: 31,
    fill: 'random',
  });
  const info = await imageInfo(image);
  expect(info.crashDump?.bugCheck?.parameters).toEqual(bugCheckParameters(image));
});

test('the real Windows 10 triage dump', async () => {
  const info = await imageInfo(`${SHARED}/dumps/win10-19041-x64-triage.dmp`);
  expect(info.crashDump?.dumpType).toBe(4);
  expect(info.build?.value.number).toBe(19041);
  expect(info.dtb?.value).toBe('0x1ad000');
  expect(info.psLoadedModuleList?.value).toBe('0xfffff8047c62a390');
  expect(info.crashDump?.bugCheck?.code).toBe('0x1000007e');
  expect(info.crashDump?.bugCheck?.parameters).toEqual(
    bugCheckParameters(`${SHARED}/dumps/win10-19041-x64-triage.dmp`),
  );
  expect(info.triage?.modules[0]?.name).toBe('ntoskrnl.exe');
  expect(info.triage?.modules.length).toBeGreaterThan(100);
  expect(info.triage?.note).toMatch(/no pool memory/);
});
