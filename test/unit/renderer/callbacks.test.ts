// The workbench's callback lookups on a real analysis, checked against the builder's truth: a
// driver's registrations, the callback a finding is about, the filters, and the callbacks a
// comparison entry names (its key is the comparison's identity, found again in each image).

import { beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_INFECTIONS, type Truth } from '../../../src/builder/index';
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
import { truthCallbackEntries } from '../../support/truth';

/** The rootkit's registrations and timers: what its findings and the comparison should name. */
function plantedEntries(truth: Truth): string[] {
  return [
    ...truth.registeredCallbacks.filter((c) => c.planted).map((c) => c.entry),
    ...truth.timers.filter((t) => t.planted).map((t) => t.timer),
  ];
}

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
    infections: [
      ...DEFAULT_INFECTIONS,
      'notifyPoolCode',
      'notifyHiddenModule',
      'registryCallback',
      'shutdownNotify',
    ],
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
  test('each planted callback has its finding, which leads back to it; suspicious only keeps exactly those', () => {
    const planted = plantedEntries(truth);
    const findings = findingsByCallback(infected.findings);
    expect([...findings.keys()].sort()).toEqual([...planted].sort());
    for (const [entry, list] of findings)
      for (const finding of list) expect(callbackOfFinding(infected, finding)?.entry).toBe(entry);
    const suspicious = filterCallbacks(
      infected.callbacks.entries,
      { kind: 'all', suspiciousOnly: true },
      findings,
    );
    expect(suspicious.map((c) => c.entry).sort()).toEqual([...planted].sort());
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
  test("names the planted callback in the infected image and nothing in the clean boot's", () => {
    const diff = diffResults(clean, infected, { baseline: 'clean', primary: 'infected' });
    const entries = diff.entries.filter((e) => e.kind === 'callback');
    const planted = plantedEntries(truth);
    expect(entries).toHaveLength(planted.length);
    const named = entries.map((e) => {
      expect(callbacksOfDiffKey(clean, e.key), e.key).toEqual([]);
      const found = callbacksOfDiffKey(infected, e.key);
      expect(found, e.key).toHaveLength(1);
      return found[0]!.entry;
    });
    expect(named.sort()).toEqual([...planted].sort());
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
