import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diffResults } from '../../../src/common/diff';
import type { AnalysisResult } from '../../../src/common/model';
import { HOSTILE_NAME, analyse, buildTestImages, type TestImages } from './images';

let images: TestImages;
let infected: AnalysisResult;
let clean: AnalysisResult;

beforeAll(async () => {
  images = buildTestImages();
  infected = await analyse(images.infected);
  clean = await analyse(images.clean);
});
afterAll(() => images.remove());

/** The same system after another boot: every kernel address moved, nothing else. */
function rebased(result: AnalysisResult, delta: bigint): AnalysisResult {
  // Kernel addresses (not offsets, sizes or physical addresses) move by `delta`.
  const shift = (text: string): string =>
    text.replace(
      /"0x([89a-f][0-9a-f]{7})"/g,
      (_, h: string) => `"0x${(BigInt(`0x${h}`) + delta).toString(16)}"`,
    );
  return JSON.parse(shift(JSON.stringify(result))) as AnalysisResult;
}

describe('baseline diff', () => {
  test('an image compared with itself after a reboot shows no difference', () => {
    expect(diffResults(clean, rebased(clean, 0x10000n)).entries).toEqual([]);
  });

  test('clean against infected of the same seed shows the rootkit', () => {
    const diff = diffResults(clean, infected, { baseline: 'clean', primary: 'infected' });
    const keys = diff.entries.map((e) => `${e.kind} ${e.change} ${e.key}`);
    expect(keys).toContain(`driver added ${HOSTILE_NAME}`);
    expect(keys).toContain('module added netfltx.sys');
    expect(keys).toContain('handler changed \\Driver\\Disk IRP_MJ_DEVICE_CONTROL');
    expect(keys).toContain('handler changed \\Driver\\Disk IRP_MJ_INTERNAL_DEVICE_CONTROL');
    const planted = infected.findings
      .filter((f) => f.kind !== 'stale-driver')
      .map((f) => `${f.kind} ${f.subject}`);
    const added = diff.entries.filter((e) => e.kind === 'finding' && e.change === 'added').map((e) => e.key);
    expect(added).toEqual(expect.arrayContaining(planted));
    // The rootkit only adds and bends; what disappears is at most a different set of unloaded drivers.
    expect(diff.entries.filter((e) => e.change === 'removed' && !e.key.startsWith('stale-driver '))).toEqual(
      [],
    );
    // The new driver is one entry, not one per ordinary handler.
    expect(diff.entries.filter((e) => e.kind === 'handler' && e.key.startsWith(HOSTILE_NAME))).toEqual([]);
    // Most severe first.
    expect(diff.entries[0]!.severity).toBe('critical');
  });

  test('handler changes name module+offset and verdict, not addresses', () => {
    const diff = diffResults(clean, infected);
    const hook = diff.entries.find((e) => e.key === '\\Driver\\Disk IRP_MJ_DEVICE_CONTROL')!;
    expect(hook.baseline).toMatch(/^classpnp\.sys\+0x[0-9a-f]+ \[delegated\]$/i);
    expect(hook.primary).toMatch(/^netfltx\.sys\+0x[0-9a-f]+ \[other-module\]$/);
    expect(hook.severity).toBe('high');
  });
});
