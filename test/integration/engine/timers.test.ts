// Kernel timers and their DPCs against the builder's ground truth, on every shared ISF build and
// x86 profile: the clean system on boot 1 and the same system on boot 2 with the rootkit's timer
// (a periodic DPC in pool code). Every armed timer of the truth is found on its table entry with
// its DPC, routine, owner, processor and period, without a symbol file (the tables by structure,
// x64's encoded DPC pointers with the keys KeSetTimerEx's code loads) and with one; the planted
// timer is a finding, the clean image has none above info, and clean vs infected across boots
// (where each driver has armed a different number of timers) differs in exactly the planted one.
// Hostile tables (a looping list, a garbage DPC pointer, destroyed keys) cost what they touch,
// with the reason.

import { describe, expect, test } from 'vitest';
import { DEFAULT_INFECTIONS, type Truth } from '../../../src/builder/index';
import { layoutFromIsfFile } from '../../../src/builder/layout/from-isf';
import type { AnalysisResult } from '../../../src/common/model';
import { analyzeImage } from '../../../src/core/node/analyze';
import { diffResults } from '../../../src/core/compare';
import { isfFiles, SHARED } from '../../support/images';
import { callbackTestImage, everyLayout, oneLayoutPerArch, type Layout } from '../../support/callback-images';
import { patchedImageCopy } from '../../support/patched-image';
import { join } from 'node:path';

const SYMBOLS = join(SHARED, 'isf');

function build(layout: Layout, infected: boolean) {
  return callbackTestImage({
    ...layout,
    scenario: infected ? 'infected' : 'clean',
    ...(infected ? { infections: [...DEFAULT_INFECTIONS, 'timerDpc' as const], boot: 2 } : {}),
  });
}

function timerEntries(result: AnalysisResult) {
  return result.callbacks.entries.filter((c) => c.kind === 'timer');
}

function expectTimersFound(result: AnalysisResult, truth: Truth): void {
  const head = result.callbacks.heads.find((h) => h.kind === 'timer')!;
  expect(head.coverage).toEqual({ state: 'complete', missing: [] });
  expect(head.address).toBe(truth.timerTables[0]!.first);
  const perProcessor = truth.timerTables[0]!.processor !== null;
  const found = timerEntries(result).map((c) => ({
    timer: c.entry,
    dpc: c.block,
    routine: c.routine.address,
    owner: c.owner,
    index: c.slot,
    processor: c.processor ?? 0,
    period: c.period,
    verdict: c.routine.verdict,
  }));
  const expected = truth.timers.map((t) => ({
    timer: t.timer,
    dpc: t.dpc,
    routine: t.routine,
    owner: t.owner,
    index: t.index,
    processor: perProcessor ? t.processor : 0,
    period: t.period,
    verdict: t.owner === null ? 'no-module' : 'own-image',
  }));
  const byTimer = (a: { timer: string }, b: { timer: string }) => a.timer.localeCompare(b.timer);
  expect(found.sort(byTimer)).toEqual(expected.sort(byTimer));
}

describe.each(everyLayout())('kernel timers: $label', (layout) => {
  test('clean and infected across boots: every timer found with its DPC, owner and verdict; the planted one is a finding and the only difference', async () => {
    const clean = build(layout, false);
    const infected = build(layout, true);
    expect(clean.truth.timers.length).toBeGreaterThan(5);
    expect(infected.truth.timers.filter((t) => t.planted)).toHaveLength(1);

    const cleanResult = await analyzeImage(clean.image);
    expectTimersFound(cleanResult, clean.truth);
    expect(cleanResult.findings.filter((f) => f.severity !== 'info')).toEqual([]);

    const infectedResult = await analyzeImage(infected.image);
    expectTimersFound(infectedResult, infected.truth);
    const planted = infected.truth.timers.find((t) => t.planted)!;
    const timerFindings = infectedResult.findings.filter((f) => f.id.includes(':timer|'));
    expect(timerFindings.map((f) => [f.severity, f.kind, f.subject])).toEqual([
      ['critical', 'callback-no-module', planted.routine],
    ]);
    expect(timerFindings[0]!.evidence.addresses).toEqual([planted.timer, planted.dpc, planted.routine]);

    const diff = diffResults(cleanResult, infectedResult, { baseline: 'clean', primary: 'infected' });
    const timerChanges = diff.entries.filter((e) => e.kind === 'callback' && e.key.startsWith('timer|'));
    expect(timerChanges.map((e) => [e.change, e.primary?.text])).toEqual([
      ['added', `timer DPC → ${planted.routine} (no module) [no-module]`],
    ]);
  });
});

describe.each([
  { label: '7601 x64', guid: '339E7413' },
  { label: '19041 x64 (two tables per processor)', guid: '1C9875F7' },
])('kernel timers with a symbol file: $label', ({ guid }) => {
  test('the tables and keys come from the symbol file, and the same timers are found', async () => {
    const isf = isfFiles().find((f) => f.label === guid)!.isf;
    const { image, truth } = build({ isf }, true);
    const result = await analyzeImage(image, { symbols: SYMBOLS });
    const head = result.callbacks.heads.find((h) => h.kind === 'timer')!;
    expect(head.method).toMatch(
      /^symbol file: _KPRCB\.TimerTable, 2 processor\(s\); \d+ timers, DPC pointers decoded with KiWaitNever\/KiWaitAlways \(symbol file: KiWaitNever, KiWaitAlways\)$/,
    );
    expectTimersFound(result, truth);
  });
});

/** The kernel global `name`'s address in an image built from `isf`. */
function kernelGlobal(isf: string, truth: Truth, name: string): bigint {
  return BigInt(truth.kernelBase) + BigInt(layoutFromIsfFile(isf).symbols.get(name)!);
}

describe('hostile timer tables', () => {
  test.each(oneLayoutPerArch())(
    '$label: a timer whose Flink leads back to itself ends its list with a warning; the other timers are read',
    async ({ isf, profile }) => {
      const { image, truth } = build({ isf, profile }, false);
      const victim = truth.timers[0]!;
      const link = BigInt(victim.timer) + (truth.arch === 'x64' ? 0x20n : 0x18n);
      const copy = patchedImageCopy(image, truth, [{ va: link, value: link }]);
      const result = await analyzeImage(copy);
      const head = result.callbacks.heads.find((h) => h.kind === 'timer')!;
      expect(head.coverage.state).toBe('partial');
      expect(result.image.warnings).toContainEqual(
        expect.stringContaining(`loops back to 0x${link.toString(16)}`),
      );
      const found = new Set(timerEntries(result).map((c) => c.entry));
      expect(found.has(victim.timer)).toBe(true);
      // Only the timers after the victim on its list are lost.
      const sameList = truth.timers.filter(
        (t) => t.processor === victim.processor && t.index === victim.index,
      );
      const after = sameList.slice(sameList.indexOf(victim) + 1);
      for (const timer of truth.timers.filter((t) => !after.includes(t)))
        expect(found.has(timer.timer), timer.timer).toBe(true);
    },
  );

  test('a timer whose DPC pointer is garbage costs that timer, with the reason', async () => {
    const { image, truth } = build({ profile: 'win7-sp1-x86' }, false);
    const victim = truth.timers[1]!;
    const copy = patchedImageCopy(image, truth, [{ va: BigInt(victim.timer) + 0x20n, value: 0x12345678n }]);
    const result = await analyzeImage(copy);
    const head = result.callbacks.heads.find((h) => h.kind === 'timer')!;
    expect(head.coverage).toEqual({
      state: 'partial',
      missing: [`the timer at ${victim.timer}: its DPC 0x12345678 does not read as a DPC object`],
    });
    expect(
      timerEntries(result)
        .map((c) => c.entry)
        .sort(),
    ).toEqual(
      truth.timers
        .filter((t) => t !== victim)
        .map((t) => t.timer)
        .sort(),
    );
  });

  // Windows 7 SP1 x64: the keys hide only the timers (its KDBG is plain).
  test('destroyed keys leave the timers not available, with why, and the rest of the analysis whole', async () => {
    const isf = isfFiles().find((f) => f.label === '339E7413')!.isf;
    const { image, truth } = build({ isf }, false);
    const never = kernelGlobal(isf, truth, 'KiWaitNever');
    const always = kernelGlobal(isf, truth, 'KiWaitAlways');
    const copy = patchedImageCopy(image, truth, [
      { va: never, value: 0n },
      { va: always, value: 0n },
    ]);
    const result = await analyzeImage(copy);
    const head = result.callbacks.heads.find((h) => h.kind === 'timer')!;
    expect(head.coverage.state).toBe('unavailable');
    expect(head.coverage.missing).toContainEqual(
      expect.stringMatching(
        /^the timers' DPC pointers are encoded and could not be decoded: none of \d+ key pairs decodes them$/,
      ),
    );
    expect(timerEntries(result)).toEqual([]);
    const intact = await analyzeImage(image);
    expect(result.drivers).toEqual(intact.drivers);
    expect(result.callbacks.entries).toEqual(intact.callbacks.entries.filter((c) => c.kind !== 'timer'));
  });
});
