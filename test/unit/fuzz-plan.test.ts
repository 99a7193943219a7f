import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { drawPlan, TARGET_WEIGHTS } from '../fuzz/mutate';

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
      perBase.set(base, (perBase.get(base) ?? 0) + 1);
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
});
