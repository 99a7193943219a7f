// Seeded fuzzing: damaged and crafted variants of builder images in every container format. Each
// must end promptly in a clear ImageError or a result — never another exception, a hang, or an
// empty result without a reason. IRPSCOPE_FUZZ_SEED and IRPSCOPE_FUZZ_MUTANTS widen a run; the
// suite's default is a fixed, small sample. The long campaign is `npm run fuzz` (test/fuzz/).
//
// Where the damage is known, the result is held to the builder's truth: a file cut short loses
// facts but must not turn into false ones (everything it states is as the intact image has it),
// and a raw image changed only in memory nothing uses must give the truth itself. The intact
// image gives the truth before the mutants run and again after they are undone.

import { closeSync, openSync, readSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { Truth } from '../../../src/builder/index';
import { Rng } from '../../../src/builder/rng';
import type { AnalysisResult } from '../../../src/common/model';
import { analyzeImage } from '../../../src/core/node/analyze';
import { ImageError } from '../../../src/core/image';
import { imageForSuite, isfFiles, type TestImage } from '../../support/images';
import { applyMutant, makeMutant, type Mutant } from '../../support/mutations';
import { expectAnalysisMatchesTruth } from '../../support/truth';

const SEED = process.env.IRPSCOPE_FUZZ_SEED ?? '1';
const MUTANTS = Number(process.env.IRPSCOPE_FUZZ_MUTANTS ?? 90);
const FORMATS = ['raw', 'dmp-full', 'dmp-bitmap', 'vmware', 'elf'] as const;
const layouts = [
  { label: 'x64 19041', isf: isfFiles().find((f) => f.isf.includes('1C9875F7'))!.isf },
  { label: 'x86 XP PAE', profile: 'xp-sp3-x86' },
  { label: 'x86 2003', profile: '2003-sp2-x86' },
];
const cases = layouts.flatMap((layout) => FORMATS.map((format) => ({ ...layout, format })));
const perCase = Math.max(1, Math.round(MUTANTS / cases.length));
const PAGE = 0x1000;

/** How many mutants each truth check was applied to, over the whole file. */
const checked = { truncated: 0, unusedMemory: 0 };

/** Whether every patch of a raw image lands on a page that is all zero in the intact image. */
function onlyUnusedMemory(image: TestImage, mutant: Mutant): boolean {
  if (!image.image.endsWith('.raw') || mutant.truncateAt !== undefined || mutant.patches.length === 0)
    return false;
  const fd = openSync(image.image, 'r');
  try {
    const page = Buffer.alloc(PAGE);
    return mutant.patches.every((patch) => {
      const first = Math.floor(patch.offset / PAGE);
      const last = Math.floor((patch.offset + patch.bytes.length - 1) / PAGE);
      for (let index = first; index <= last; index++) {
        readSync(fd, page, 0, PAGE, index * PAGE);
        if (page.some((byte) => byte !== 0)) return false;
      }
      return true;
    });
  } finally {
    closeSync(fd);
  }
}

/** What a result states about a file cut short is what the intact image holds. */
function expectNothingFalse(result: AnalysisResult, truth: Truth): void {
  const drivers = new Map(
    [...truth.drivers, ...truth.staleDrivers.map((d) => ({ ...d, nameResident: true }))].map((d) => [
      d.objectVa,
      d,
    ]),
  );
  for (const driver of result.drivers) {
    const known = drivers.get(driver.objectVa);
    expect(known, `driver ${driver.objectVa} is one the image has`).toBeDefined();
    if (driver.name !== null && driver.nameStatus === null && known!.nameResident)
      expect(driver.name, driver.objectVa).toBe(known!.name);
  }
  const devices = new Set(truth.drivers.flatMap((d) => d.devices.map((x) => x.objectVa)));
  for (const device of result.devices)
    expect(devices.has(device.objectVa), `device ${device.objectVa} is one the image has`).toBe(true);
  const modules = new Map(truth.modules.map((m) => [BigInt(m.base), m]));
  for (const module of result.modules) {
    const known = modules.get(BigInt(module.base));
    expect(known, `module ${module.name} at ${module.base} is one the image has`).toBeDefined();
    expect(module.size, module.name).toBe(known!.size);
    // Null is "not readable" (its header page is cut off): allowed; a value must be the true one.
    if (module.timeDateStamp !== null) expect(module.timeDateStamp, module.name).toBe(known!.timeDateStamp);
    if (module.checksum !== null) expect(module.checksum, module.name).toBe(known!.checksum);
    // The kernel's entry, added when no list holds it (foundBy empty), gets a default name
    // rather than one read from the image: only what was read is held to the truth here.
    if (module.foundBy.length > 0) expect(module.name).toBe(known!.name);
  }
  // Lost bytes may hide an anomaly; they must not make one up.
  // A finding on a device whose name is lost names the device's address instead.
  const deviceAt = new Map(
    truth.drivers.flatMap((d) => d.devices.flatMap((x) => (x.name ? [[x.name, x.objectVa] as const] : []))),
  );
  const planted = new Set(
    truth.findings.flatMap((f) => [
      `${f.kind} ${f.subject}`,
      ...(deviceAt.has(f.subject) ? [`${f.kind} ${deviceAt.get(f.subject)}`] : []),
    ]),
  );
  for (const finding of result.findings.filter((f) => f.severity === 'critical'))
    expect(planted.has(`${finding.kind} ${finding.subject}`), `${finding.kind} ${finding.subject}`).toBe(
      true,
    );
}

describe.each(cases)('fuzz $label $format', ({ label, format, ...layout }) => {
  const image = imageForSuite({
    ...layout,
    format,
    scenario: 'infected',
    size: 64 << 20,
    seed: 51,
    fill: 'zero',
  });
  const rng = new Rng(SEED, `${label}/${format}`);
  const mutants = Array.from({ length: perCase }, () => makeMutant(rng, image));

  test('the intact image gives the truth', async () => {
    expectAnalysisMatchesTruth(await analyzeImage(image.image), image.truth);
  });

  const named = mutants.map((mutant, index) => [`#${index} ${mutant.description}`, mutant] as const);
  test.each(named)('%s', async (_name, mutant) => {
    const unusedMemory = onlyUnusedMemory(image, mutant);
    const { path, undo } = applyMutant(image, mutant);
    try {
      const result = await analyzeImage(path);
      // The result crosses process boundaries as JSON: nothing may be lost or changed on the way.
      expect(JSON.parse(JSON.stringify(result))).toStrictEqual(result);
      if (result.drivers.length === 0) expect(result.image.warnings.length).toBeGreaterThan(0);
      if (mutant.truncateAt !== undefined) {
        expectNothingFalse(result, image.truth);
        checked.truncated++;
      }
      if (unusedMemory) {
        expectAnalysisMatchesTruth(result, image.truth);
        checked.unusedMemory++;
      }
    } catch (error) {
      if (!(error instanceof ImageError)) throw error;
      expect(error.message.length).toBeGreaterThan(0);
      // Memory nothing uses changed: the image is as readable as it was.
      expect(unusedMemory, error.message).toBe(false);
    } finally {
      undo();
    }
  });

  test('the image is intact again after its mutants', async () => {
    expectAnalysisMatchesTruth(await analyzeImage(image.image), image.truth);
  });
});

// The default sample is known to reach both; another seed or size may by chance not.
test.runIf(SEED === '1' && MUTANTS === 90)('the default sample reached both truth checks', () => {
  // Counted by the mutants above, which run first (in file order).
  expect(checked.truncated, 'truncated files held to the truth').toBeGreaterThan(0);
  expect(checked.unusedMemory, 'raw images changed only in unused memory').toBeGreaterThan(0);
});
