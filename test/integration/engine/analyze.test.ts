// `analyze` against the builder's ground truth: drivers, devices, stacks, modules, links, every
// handler's owner and verdict, and findings equal to the planted anomalies — for every shared
// ISF build and x86 profile, clean and infected, and every container format.

import { describe, expect, test } from 'vitest';
import { X86_PROFILES, type BuildImageOptions } from '../../../src/builder/index';
import type { AnalysisResult } from '../../../src/common/model';
import { analyzeImage } from '../../../src/core/node/analyze';
import { SHARED, imageForTest, isfFiles } from '../../support/images';
import { expectAnalysisMatchesTruth } from '../../support/truth';

const SIZE = 64 * 1024 * 1024;
const layouts: Array<{ label: string } & Pick<BuildImageOptions, 'isf' | 'profile'>> = [
  ...isfFiles(),
  ...X86_PROFILES.map((profile) => ({ label: profile, profile })),
];

const FORMATS = ['raw', 'dmp-full', 'dmp-bitmap', 'vmware', 'elf'] as const;

// Every shared build and profile: clean (raw) and infected in every container format.
describe.each(layouts)('analyze $label', ({ isf, profile }) => {
  test('clean raw image: no finding above info', async () => {
    const { image, truth } = imageForTest({
      isf,
      profile,
      format: 'raw',
      scenario: 'clean',
      size: SIZE,
      seed: 31,
      fill: 'random',
    });
    const result = await analyzeImage(image);
    expect(result.image.warnings).toEqual([]);
    expectAnalysisMatchesTruth(result, truth);
    expect(result.findings.filter((f) => f.severity !== 'info')).toEqual([]);
  });
  test.each(FORMATS)('infected %s', async (format) => {
    const { image, truth } = imageForTest({
      isf,
      profile,
      format,
      scenario: 'infected',
      size: SIZE,
      seed: 32,
      fill: 'zero',
    });
    const result = await analyzeImage(image);
    expect(result.image.warnings.filter((w) => !/read as raw/.test(w))).toEqual([]);
    expectAnalysisMatchesTruth(result, truth);
  });
});

// The system-service table bent as rootkits bent it (opt-in infections): each hook is a finding,
// on every build and profile, in a container other than raw.
test.each(layouts)('service-table hooks are findings: $label', async ({ isf, profile }) => {
  const { image, truth } = imageForTest({
    isf,
    profile,
    format: 'dmp-full',
    scenario: 'infected',
    infections: ['ssdtHook', 'ssdtInline'],
    size: SIZE,
    seed: 33,
    fill: 'random',
  });
  const result = await analyzeImage(image);
  expect(truth.findings.filter((f) => f.kind.startsWith('ssdt')).length).toBe(2);
  expectAnalysisMatchesTruth(result, truth);
});

// A rootkit's completion routine written into a pending request (opt-in infection): no dispatch
// table, no filter device, only the IRP in flight shows it. Every build and profile, as VMware.
test.each(layouts)(
  'a hijacked completion routine of a pending IRP is a finding: $label',
  async ({ isf, profile }) => {
    const { image, truth } = imageForTest({
      isf,
      profile,
      format: 'vmware',
      scenario: 'infected',
      infections: ['completionHook'],
      size: SIZE,
      seed: 34,
      fill: 'random',
    });
    const result = await analyzeImage(image);
    expectAnalysisMatchesTruth(result, truth);
    const planted = truth.findings.filter((f) => f.kind === 'completion-hook');
    expect(planted).toHaveLength(1);
    const hooked = truth.irps.flatMap((irp) =>
      irp.locations
        .filter((l) => l.completionRoutine !== null && l.completionModule === null)
        .map((l) => ({ irp: irp.address, routine: l.completionRoutine! })),
    );
    expect(hooked).toHaveLength(1);
    const finding = result.findings.find((f) => f.kind === 'completion-hook')!;
    expect(finding.subject).toBe(planted[0]!.subject);
    expect(finding.evidence.addresses).toEqual([hooked[0]!.irp, hooked[0]!.routine]);
    expect(finding.evidence.handlers?.[0]?.verdict).toBe('no-module');
    expect(finding.evidence.disassembly?.instructions.length).toBeGreaterThan(0);
    const irp = result.irps.find((i) => i.address === hooked[0]!.irp)!;
    expect(irp.stack.find((l) => l.completion?.address === hooked[0]!.routine)?.completion?.verdict).toBe(
      'no-module',
    );
  },
);

test('with --symbols the result is the same and names the ISF used', async () => {
  const isf = isfFiles().find((f) => f.isf.includes('C2EADB24'))!.isf;
  const { image, truth } = imageForTest({
    isf,
    format: 'raw',
    scenario: 'infected',
    size: SIZE,
    seed: 31,
    fill: 'random',
  });
  const result = await analyzeImage(image, { symbols: `${SHARED}/isf` });
  expect(result.image.profile?.source).toBe('isf');
  expect(result.image.profile?.path).toContain('C2EADB24A615E9472CE47C8ADD31F130-1.json.xz');
  expectAnalysisMatchesTruth(result, truth);
});

test('the same image gives byte-identical JSON', async () => {
  const { image } = imageForTest({
    profile: 'xp-sp3-x86',
    format: 'raw',
    scenario: 'infected',
    size: SIZE,
    seed: 31,
    fill: 'random',
  });
  const strip = (r: AnalysisResult) =>
    JSON.stringify({ ...r, image: { ...r.image, timings: [] }, stats: { ...r.stats, timings: [] } });
  expect(strip(await analyzeImage(image))).toBe(strip(await analyzeImage(image)));
});
