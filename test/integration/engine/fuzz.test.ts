// Seeded fuzzing: damaged and crafted variants of builder images in every container format. Each
// must end promptly in a clear ImageError or a result — never another exception, a hang, or an
// empty result without a reason. IRPSCOPE_FUZZ_SEED and IRPSCOPE_FUZZ_MUTANTS widen a run; the
// suite's default is a fixed, small sample. The long campaign is `npm run fuzz` (test/fuzz/).

import { describe, expect, test } from 'vitest';
import { Rng } from '../../../src/builder/rng';
import { analyzeImage } from '../../../src/core/analyze';
import { ImageError } from '../../../src/core/image';
import { imageForSuite, isfFiles } from '../../support/images';
import { applyMutant, makeMutant } from '../../support/mutations';

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

  const named = mutants.map((mutant, index) => [`#${index} ${mutant.description}`, mutant] as const);
  test.each(named)('%s', async (_name, mutant) => {
    const { path, undo } = applyMutant(image, mutant);
    try {
      const result = await analyzeImage(path);
      expect(() => JSON.stringify(result)).not.toThrow();
      if (result.drivers.length === 0) expect(result.image.warnings.length).toBeGreaterThan(0);
    } catch (error) {
      if (!(error instanceof ImageError)) throw error;
      expect(error.message.length).toBeGreaterThan(0);
    } finally {
      undo();
    }
  });
});
