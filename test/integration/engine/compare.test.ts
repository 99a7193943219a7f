// The baseline comparison across boots, against the builder's ground truth: for every shared ISF
// build and x86 profile, the clean system on boot 1 against the same system infected on boot 2
// (and clean against clean) gives exactly the planted anomalies — no bystander — while what any
// two boots differ in (PnP devices that come and go, unloaded drivers) is variation. The three
// images of each build are in different container formats.

import { describe, expect, test } from 'vitest';
import { X86_PROFILES, type BuildImageOptions, type Truth } from '../../../src/builder/index';
import type { DiffResult } from '../../../src/common/api';
import type { AnalysisResult } from '../../../src/common/model';
import { analyzeImage } from '../../../src/core/node/analyze';
import { diffResults } from '../../../src/core/compare';
import { imageForTest, isfFiles } from '../../support/images';

const SIZE = 64 * 1024 * 1024;
const FORMATS = ['raw', 'elf', 'dmp-full', 'vmware', 'dmp-bitmap'] as const;

const layouts: Array<{ label: string } & Pick<BuildImageOptions, 'isf' | 'profile'>> = [
  ...isfFiles(),
  ...X86_PROFILES.map((profile) => ({ label: profile, profile })),
];

/** Devices of the transient groups one boot has and the other lacks. */
function transientOnlyIn(truth: Truth, other: Truth): Set<string> {
  const present = new Set(other.boot.transient.filter((g) => g.present).map((g) => g.group));
  return new Set(
    truth.boot.transient.filter((g) => g.present && !present.has(g.group)).flatMap((g) => g.devices),
  );
}

/**
 * The differences a hooked IDT gate makes: on each processor the gate into the rootkit is added and
 * the kernel's gate it replaced removed; one of them carries the hook's finding, for all of them.
 */
function hookedGateDifferences(
  differences: DiffResult['entries'],
  baselineTruth: Truth,
  imageTruth: Truth,
): DiffResult['entries'] {
  const hooked = imageTruth.idtEntries.filter((e) => e.planted);
  const rootkit = imageTruth.drivers.find((d) => d.hidden)?.module?.toLowerCase();
  const kernel = baselineTruth.modules
    .find((m) => BigInt(m.base) === BigInt(baselineTruth.kernelBase))!
    .name.toLowerCase();
  const gates = differences.filter((e) => e.kind === 'callback' && e.key.startsWith('idt|'));
  const added = gates.filter((e) => e.change === 'added');
  const removed = gates.filter((e) => e.change === 'removed');
  // One row each however many processors' tables were hooked: gates are compared as a set.
  const once = (key: string) => (hooked.length > 0 ? [key] : []);
  expect(added.map((e) => e.key.split('+')[0])).toEqual(once(`idt|${rootkit}`));
  expect(removed.map((e) => e.key.split('+')[0])).toEqual(once(`idt|${kernel}`));
  expect(gates.flatMap((e) => e.findings.added)).toHaveLength(hooked.length > 0 ? 1 : 0);
  return gates;
}

function expectComparisonMatchesTruth(
  diff: DiffResult,
  image: AnalysisResult,
  baselineTruth: Truth,
  imageTruth: Truth,
): void {
  expect(diff.compatibility.unrelated).toBeNull();
  expect(diff.compatibility.warnings).toEqual([]);
  const differences = diff.entries.filter((e) => e.variation === null);
  // No bystander: every difference carries a finding the baseline does not have, but for the
  // hooked gates (x86), whose one finding speaks for every processor's.
  const gates = hookedGateDifferences(differences, baselineTruth, imageTruth);
  for (const entry of differences.filter((e) => !gates.includes(e)))
    expect(entry.findings.added.length, `${entry.id}: ${entry.summary}`).toBeGreaterThan(0);
  // Every planted anomaly, and nothing else.
  const byId = new Map(image.findings.map((f) => [f.id, f]));
  const attached = differences.flatMap((e) => e.findings.added.map((id) => byId.get(id)!));
  const planted = imageTruth.findings.filter((f) => f.kind !== 'stale-driver');
  expect(attached.map((f) => `${f.severity} ${f.kind} ${f.subject}`).sort()).toEqual(
    planted.map((f) => `${f.severity} ${f.kind} ${f.subject}`).sort(),
  );
  expect(diff.entries.flatMap((e) => e.findings.removed)).toEqual([]);
  // Drivers: every driver of the baseline is paired; only the rootkit's is new.
  const rootkit = imageTruth.drivers.filter((d) => d.hidden).map((d) => d.objectVa);
  const addedDrivers = diff.pairs.drivers.filter((p) => p.baseline === null).map((p) => p.primary);
  expect(addedDrivers.sort()).toEqual(rootkit.sort());
  expect(diff.pairs.drivers.filter((p) => p.primary === null)).toEqual([]);
  expect(diff.counts.drivers.matched).toBe(baselineTruth.drivers.length);
  // Devices: those of the transient groups only one boot has are variation; the rest pair,
  // except the rootkit's own devices.
  const rootkitDevices = new Set<string>(
    imageTruth.drivers.filter((d) => d.hidden).flatMap((d) => d.devices.map((x) => x.objectVa)),
  );
  const onlyBaseline = transientOnlyIn(baselineTruth, imageTruth);
  const onlyImage = transientOnlyIn(imageTruth, baselineTruth);
  const removed = diff.pairs.devices.filter((p) => p.primary === null);
  const added = diff.pairs.devices.filter((p) => p.baseline === null && !rootkitDevices.has(p.primary!));
  expect(new Set(removed.map((p) => p.baseline))).toEqual(onlyBaseline);
  expect(new Set(added.map((p) => p.primary))).toEqual(onlyImage);
  for (const row of [...removed, ...added]) expect(row.status, row.key).toBe('variation');
  // Unloaded drivers differ between boots: variation, never a difference.
  for (const entry of diff.entries.filter((e) => e.findings.added.length === 0 && e.kind === 'driver'))
    expect(entry.variation, entry.id).not.toBeNull();
}

// A wider sweep for local runs: IRPSCOPE_COMPARE_SEEDS=41,42,43 IRPSCOPE_COMPARE_BOOTS=1:2,3:6
const SEEDS = (process.env.IRPSCOPE_COMPARE_SEEDS ?? '41').split(',');
const BOOTS = (process.env.IRPSCOPE_COMPARE_BOOTS ?? '1:2')
  .split(',')
  .map((p) => p.split(':').map(Number) as [number, number]);
const cases = layouts.flatMap((layout, i) =>
  SEEDS.flatMap((seed) => BOOTS.map(([first, second], j) => ({ ...layout, i: i + j, seed, first, second }))),
);

describe.each(cases)(
  'baseline comparison across boots, $label seed $seed',
  ({ isf, profile, i, seed, first, second }) => {
    const build = (scenario: 'clean' | 'infected', boot: number, format: (typeof FORMATS)[number]) =>
      imageForTest({ isf, profile, format, scenario, boot, size: SIZE, seed, fill: 'random' });

    test(`clean boot ${first} (${FORMATS[i % 5]}) against infected boot ${second} (${FORMATS[(i + 2) % 5]}), and clean boot ${second} (${FORMATS[(i + 1) % 5]})`, async () => {
      const cleanFirst = build('clean', first, FORMATS[i % 5]!);
      const cleanSecond = build('clean', second, FORMATS[(i + 1) % 5]!);
      const infected = build('infected', second, FORMATS[(i + 2) % 5]!);
      const [baseline, other, suspect] = await Promise.all([
        analyzeImage(cleanFirst.image),
        analyzeImage(cleanSecond.image),
        analyzeImage(infected.image),
      ]);
      // The boots really differ: addresses moved (where the generation has KASLR), devices came and went.
      expect(cleanSecond.truth.drivers.map((d) => d.objectVa)).not.toEqual(
        cleanFirst.truth.drivers.map((d) => d.objectVa),
      );

      const clean = diffResults(baseline, other);
      expectComparisonMatchesTruth(clean, other, cleanFirst.truth, cleanSecond.truth);
      expect(clean.counts.differences).toBe(0);

      const diff = diffResults(baseline, suspect);
      expectComparisonMatchesTruth(diff, suspect, cleanFirst.truth, infected.truth);
      expect(diff.entries[0]!.severity).toBe('critical');
    });
  },
);

// The hijacked completion routine (a default infection) is a difference of its own, on the device
// where the request waits (paired in both images), with every other anomaly still there and no
// bystander.
test.each(layouts.filter((l) => l.label === '1C9875F7' || l.label === 'win7-sp1-x86'))(
  'a hijacked completion routine is a difference across boots: $label',
  async ({ isf, profile }) => {
    const build = (scenario: 'clean' | 'infected', boot: number, format: (typeof FORMATS)[number]) =>
      imageForTest({
        isf,
        profile,
        format,
        scenario,
        boot,
        size: SIZE,
        seed: 44,
        fill: 'random',
      });
    const clean = build('clean', 1, 'elf');
    const infected = build('infected', 3, 'dmp-bitmap');
    const [baseline, suspect] = await Promise.all([analyzeImage(clean.image), analyzeImage(infected.image)]);
    const diff = diffResults(baseline, suspect);
    expectComparisonMatchesTruth(diff, suspect, clean.truth, infected.truth);
    const entry = diff.entries.find((e) =>
      e.findings.added.some((id) => suspect.findings.find((f) => f.id === id)?.kind === 'completion-hook'),
    );
    expect(entry?.kind).toBe('device');
    const device = infected.truth.findings.find((f) => f.kind === 'completion-hook')!.subject;
    expect(entry?.key).toBe(device);
    // The device is in both images: shown on both sides, with the facts that paired it.
    expect(entry?.change).toBe('changed');
    expect(entry?.baseline?.device).toBe(baseline.devices.find((d) => d.name === device)!.id);
    expect(entry?.primary?.device).toBe(suspect.devices.find((d) => d.name === device)!.id);
    expect(entry?.matchedBy).toContainEqual({ fact: 'name', name: device });
  },
);
