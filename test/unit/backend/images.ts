// Builder images shared by the workbench's unit tests: a clean x86 system and the same system
// infected on a later boot, built once per test file into a temporary folder (zero fill: fast and small).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage, type Truth } from '../../../src/builder/index';
import type { AnalysisResult } from '../../../src/common/model';
import { recordedAnalysis } from '../../support/engine-recordings';

/** The engine module the backends under test load: the real engine, recorded, steerable. */
export const RECORDED_ENGINE = fileURLToPath(new URL('../../support/recorded-engine.ts', import.meta.url));
export interface TestImages {
  folder: string;
  /** The clean system on its first boot: the baseline. */
  clean: string;
  /** The same system infected, on a later boot (every address moved). */
  infected: string;
  cleanTruth: Truth;
  infectedTruth: Truth;
  /** The rootkit's driver name: markup, quotes, BEL and ESC on purpose. */
  hostileName: string;
  /** The rootkit's image, e.g. "netfltx.sys". */
  rootkitModule: string;
  remove(): void;
}

export function buildTestImages(): TestImages {
  const folder = mkdtempSync(join(tmpdir(), 'irpscope-wb-'));
  const build = (scenario: 'clean' | 'infected') =>
    buildImage({
      profile: 'win7-sp1-x86',
      format: 'raw',
      scenario,
      size: 64 * 1024 * 1024,
      seed: 1,
      boot: scenario === 'clean' ? 1 : 2,
      fill: 'zero',
      out: join(folder, scenario),
    });
  const clean = build('clean');
  const infected = build('infected');
  const rootkit = infected.truth.drivers.find((d) => d.hidden)!;
  return {
    folder,
    clean: clean.image,
    infected: infected.image,
    cleanTruth: clean.truth,
    infectedTruth: infected.truth,
    hostileName: rootkit.name,
    rootkitModule: rootkit.module!,
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** The real engine's analysis of `path`, recorded on first use (the sessions replay the same). */
export function analyse(path: string): Promise<AnalysisResult> {
  return recordedAnalysis(path);
}
