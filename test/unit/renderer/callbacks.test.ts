// The workbench's callback lookups on a real analysis, checked against the builder's truth: a
// driver's registrations, the callback a finding is about, the filters, and the callbacks a
// comparison entry names (its key is the comparison's identity, found again in each image).

import { beforeAll, describe, expect, test } from 'vitest';
import type { Truth } from '../../../src/builder/index';
import type { AnalysisResult } from '../../../src/common/model';
import { diffResults } from '../../../src/core/compare';
import { analyzeImage } from '../../../src/core/node/analyze';
import {
  callbackOfFinding,
  callbacksOfDiffKey,
  driverRegistrations,
  filterCallbacks,
  findingsByCallback,
  headGap,
} from '../../../src/renderer/util/callbacks';
import { imageForSuite } from '../../support/images';
import { truthCallbackEntries, truthPlantedCallbackEntries } from '../../support/truth';

let truth: Truth;
let infected: AnalysisResult;
let clean: AnalysisResult;
beforeAll(async () => {
  const options = {
    profile: 'win7-sp1-x86',
    format: 'raw',
    size: 64 * 1024 * 1024,
    seed: 1,
    fill: 'zero',
  } as const;
  const infectedImage = imageForSuite({
    ...options,
    scenario: 'infected',
  });
  const cleanImage = imageForSuite({ ...options, scenario: 'clean', boot: 2 });
  truth = infectedImage.truth;
  [infected, clean] = await Promise.all([analyzeImage(infectedImage.image), analyzeImage(cleanImage.image)]);
});

describe("a driver's registrations", () => {
  test('are the truth callbacks in its module and the shutdown records naming its driver object', () => {
    let seen = 0;
    for (const driver of infected.drivers) {
      const expected = truthCallbackEntries(truth)
        .filter(
          (c) =>
            (driver.module !== null && c.owner?.toLowerCase() === driver.module.toLowerCase()) ||
            c.driver === driver.objectVa,
        )
        .map((c) => c.entry)
        .sort();
      const shown = driverRegistrations(infected, driver)
        .map((c) => c.entry)
        .sort();
      expect(shown, driver.name ?? driver.id).toEqual(expected);
      seen += shown.length;
    }
    // Every registration in a module belongs to some driver; pool code to none.
    expect(seen).toBeGreaterThanOrEqual(truth.registeredCallbacks.filter((c) => c.owner !== null).length);
  });
});

describe('findings and filters', () => {
  test('each planted callback, thread and gate has its finding, which leads to one of them; suspicious only keeps exactly those', () => {
    const planted = truthPlantedCallbackEntries(truth).sort();
    expect(planted.length).toBeGreaterThan(truth.registeredCallbacks.filter((c) => c.planted).length);
    const findings = findingsByCallback(infected.findings, infected.callbacks.entries);
    expect([...findings.keys()].sort()).toEqual(planted);
    for (const [entry, list] of findings)
      for (const finding of list) {
        expect(finding.evidence.addresses).toContain(entry);
        expect(planted).toContain(callbackOfFinding(infected, finding)?.entry);
      }
    const suspicious = filterCallbacks(
      infected.callbacks.entries,
      { kind: 'all', suspiciousOnly: true },
      findings,
    );
    expect(suspicious.map((c) => c.entry).sort()).toEqual(planted);
    const registry = filterCallbacks(
      infected.callbacks.entries,
      { kind: 'registry', suspiciousOnly: false },
      findings,
    );
    expect(registry.map((c) => c.entry).sort()).toEqual(
      truth.registeredCallbacks
        .filter((c) => c.kind === 'registry')
        .map((c) => c.entry)
        .sort(),
    );
  });
});

describe('a comparison entry', () => {
  test("an added one names planted callbacks in the infected image and nothing in the clean boot's; a removed one the reverse", () => {
    const diff = diffResults(clean, infected, { baseline: 'clean', primary: 'infected' });
    const entries = diff.entries.filter((e) => e.kind === 'callback');
    const named = (side: AnalysisResult, change: 'added' | 'removed') =>
      entries
        .filter((e) => e.change === change)
        .flatMap((e) => {
          expect(callbacksOfDiffKey(change === 'added' ? clean : infected, e.key), e.key).toEqual([]);
          return callbacksOfDiffKey(side, e.key).map((c) => c.entry);
        })
        .filter((entry, i, all) => all.indexOf(entry) === i)
        .sort();
    expect(named(infected, 'added')).toEqual(truthPlantedCallbackEntries(truth).sort());
    // The hooked gates replaced the system-call gate the clean boot has on each processor: one
    // removed row (gates are compared as a set), which names the gate of every processor.
    const hooked = truth.idtEntries.filter((e) => e.planted);
    expect(hooked.length).toBeGreaterThan(1);
    expect(named(clean, 'removed')).toHaveLength(hooked.length);
    expect(entries.filter((e) => e.change === 'removed').map((e) => e.key.split('|')[0])).toEqual(['idt']);
    expect(entries.filter((e) => e.change !== 'added' && e.change !== 'removed')).toEqual([]);
  });
});

describe("a kind's head", () => {
  test('read whole says nothing; otherwise it says what is missing, and why', () => {
    for (const head of infected.callbacks.heads) expect(headGap(head), head.kind).toBeNull();
    const head = infected.callbacks.heads[0]!;
    const why = 'PsSetCreateProcessNotifyRoutine: the page holding its code was not in the image';
    expect(headGap({ ...head, address: null, coverage: { state: 'unavailable', missing: [why] } })).toBe(
      `not available: ${why}`,
    );
    expect(
      headGap({ ...head, coverage: { state: 'partial', missing: ['slot 3 leads to an unmapped block'] } }),
    ).toBe('partial: slot 3 leads to an unmapped block');
  });
});
