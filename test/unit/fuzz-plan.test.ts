import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FORMATS } from '../fuzz/corpus';
import { drawPlan, IMAGE_TARGETS, makeInput, TARGET_WEIGHTS, type Bases, type Target } from '../fuzz/mutate';
import { BYTES_TARGETS, craftedPeSeeds, qmpSeeds, type Seed } from '../fuzz/seeds';
import { ROOT } from '../support/shared';

// `--plan` recounts a range of a campaign from its seed alone, so the draw must depend on the seed
// and the input's index only, and follow the campaign's target weights.
describe('fuzz campaign plan', () => {
  const bases = Array.from({ length: 15 }, (_, i) => `base-${i}`);

  it('draws the same base and target for an input in another process, time zone and locale', () => {
    const indices = [...Array.from({ length: 200 }, (_, i) => i), 467_071, 713_099, 999_999];
    const draws = (seed: string) =>
      indices.map((i) => drawPlan(seed, i, bases)).map((p) => `${p.base}/${p.target}`);
    // What --plan recounts later: the draws of another process, unlike this one in all but the code.
    const mutate = JSON.stringify(fileURLToPath(new URL('../fuzz/mutate.ts', import.meta.url)));
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { drawPlan } = await import(${mutate});
const bases = Array.from({ length: 15 }, (_, i) => 'base-' + i);
const indices = ${JSON.stringify(indices)};
process.stdout.write(JSON.stringify(indices.map((i) => drawPlan('2026', i, bases)).map((p) => p.base + '/' + p.target)));`,
      ],
      {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, TZ: 'Pacific/Chatham', LC_ALL: 'de_DE.UTF-8', LANG: 'de_DE.UTF-8' },
      },
    );
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual(draws('2026'));
    expect(draws('2026')).not.toEqual(draws('2027'));
  });

  it('shares inputs across bases and targets as the weights say', () => {
    const n = 60_000;
    const perBase = new Map<string, number>();
    const perTarget = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const { base, target } = drawPlan('7', i, bases);
      perBase.set(base!, (perBase.get(base!) ?? 0) + 1);
      perTarget.set(target, (perTarget.get(target) ?? 0) + 1);
    }
    expect(perBase.size).toBe(bases.length);
    for (const count of perBase.values()) expect(Math.abs(count - n / bases.length)).toBeLessThan(250);
    const total = TARGET_WEIGHTS.reduce((sum, [, w]) => sum + w, 0);
    for (const [target, weight] of TARGET_WEIGHTS) {
      const expected = (n * weight) / total;
      expect(Math.abs((perTarget.get(target) ?? 0) - expected)).toBeLessThan(5 * Math.sqrt(expected) + 2);
    }
  });

  it('keeps a forced target', () => {
    for (let i = 0; i < 100; i++) expect(drawPlan('1', i, bases, 'analyze').target).toBe('analyze');
  });

  it('draws the mix of the campaign of record: inputs 713,100–999,999 of seed 2026 as its summary counted them', () => {
    // The README's seventh sitting, per format: open, discover, analyze, cli (15 base images:
    // three layouts in every format, in the order the campaign lists them).
    const recorded: Record<string, number[]> = {
      raw: [34_092, 20_566, 2_337, 19],
      'dmp-full': [34_751, 20_573, 2_304, 17],
      'dmp-bitmap': [34_491, 20_803, 2_316, 15],
      vmware: [34_586, 20_789, 2_336, 22],
      elf: [34_246, 20_348, 2_275, 14],
    };
    const keys = ['x64', 'x86-pae', 'x86'].flatMap((layout) => FORMATS.map((format) => ({ layout, format })));
    const counted = Object.fromEntries(FORMATS.map((f) => [f, IMAGE_TARGETS.map(() => 0)]));
    for (let index = 713_100; index < 1_000_000; index++) {
      const { base, target } = drawPlan('2026', index, keys);
      counted[base!.format]![IMAGE_TARGETS.indexOf(target as (typeof IMAGE_TARGETS)[number])]!++;
    }
    expect(counted).toEqual(recorded);
  });
});

describe('fuzz campaign plan, targets fed seeds of their own', () => {
  const bases = Array.from({ length: 15 }, (_, i) => `base-${i}`);
  const all = [...BYTES_TARGETS] as Target[];

  it('shares the inputs equally among the named targets, the same on every draw', () => {
    const n = 30_000;
    const perTarget = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const { target } = drawPlan('2027', i, bases, all);
      expect(drawPlan('2027', i, bases, all).target).toBe(target);
      perTarget.set(target, (perTarget.get(target) ?? 0) + 1);
    }
    expect([...perTarget.keys()].sort()).toEqual([...BYTES_TARGETS].sort());
    for (const count of perTarget.values())
      expect(Math.abs(count - n / 3)).toBeLessThan(5 * Math.sqrt(n / 3));
  });

  it('needs no base images: the draw is the same with none, and takes one number for the base whatever the list', () => {
    for (let i = 0; i < 200; i++) {
      const withBases = drawPlan('2027', i, bases, all);
      const without = drawPlan('2027', i, [], all);
      expect(without.base).toBeUndefined();
      expect([without.target, without.rng.next()]).toEqual([withBases.target, withBases.rng.next()]);
      // A named image target leaves the rest of the stream where the weighted mix leaves it.
      expect(drawPlan('2027', i, bases, 'open').rng.next()).toBe(drawPlan('2027', i, bases).rng.next());
    }
  });

  it('makes the same input, byte for byte and option for option, whenever it is asked', () => {
    const seeds: Bases['seeds'] = {
      'pe-headers': craftedPeSeeds(),
      'qmp-replies': qmpSeeds(ROOT),
      'case-files': [caseSeed()],
    };
    const corpus: Bases = { list: [], sites: new Map(), seeds };
    const seen = new Set<string>();
    let unchanged = 0;
    for (let index = 0; index < 300; index++) {
      const first = makeInput('2027', index, corpus, all);
      const again = makeInput('2027', index, corpus, all);
      if (!('bytes' in first) || !('bytes' in again)) throw new Error('an image input');
      expect(Buffer.from(again.bytes).equals(Buffer.from(first.bytes))).toBe(true);
      expect([again.description, again.qmp, again.peMemory]).toEqual([
        first.description,
        first.qmp,
        first.peMemory,
      ]);
      seen.add(first.target);
      if (Buffer.from(first.bytes).equals(Buffer.from(first.seed.bytes))) unchanged++;
    }
    expect(seen.size).toBe(3);
    // A step may change nothing (a swap of a transcript's only line); nearly all inputs are new.
    expect(unchanged).toBeLessThan(15);
  });
});

/** A case.json as the Backend writes it (the campaign's case seeds are made from real images). */
function caseSeed(): Seed {
  const record = {
    schema: 'irpscope-case/2',
    id: '0123456789abcdef0123',
    engine: 'irpscope-analysis/3 1.0.0 0123456789abcdef',
    analyzedAt: '2026-01-02T03:00:00.000Z',
    baseline: null,
    analyst: 'A. Analyst',
    note: '',
    annotations: {
      'driver:0xffff1000': { status: 'to-check', note: 'n', updatedAt: '2026-01-02T03:00:00.000Z' },
    },
    extractions: [],
    image: {
      path: '/cases/image.raw',
      size: 67108864,
      mtimeMs: 1,
      quickHash: 'a'.repeat(64),
      sha256: null,
      sha256ComputedAt: null,
      sha256VerifiedAt: null,
    },
    openedAt: '2026-01-02T03:00:00.000Z',
    result: 'result-0123456789abcdef.json',
  };
  return {
    key: 'test:case',
    target: 'case-files',
    bytes: new TextEncoder().encode(JSON.stringify(record, null, 2)),
  };
}
