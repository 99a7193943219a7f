// Builder images shared by the workbench's unit tests: a clean and an infected x86 system of
// one seed, built once per test file into a temporary folder (zero fill: fast and small).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage } from '../../../src/builder/index';
import type { AnalysisResult } from '../../../src/common/model';
import { openEngine } from '../../support/fake-engine';

export const FAKE_ENGINE = fileURLToPath(new URL('../../support/fake-engine.ts', import.meta.url));
export const HOSTILE_NAME = '\\Driver\\netfltx<img src=x onerror=alert(1)>"\'&\u0007\u001b[31m';

export interface TestImages {
  folder: string;
  clean: string;
  infected: string;
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
      fill: 'zero',
      out: join(folder, scenario),
    }).image;
  return {
    folder,
    clean: build('clean'),
    infected: build('infected'),
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}

export async function analyse(path: string): Promise<AnalysisResult> {
  const engine = await openEngine(path, {}, () => {});
  try {
    return await engine.analyze(() => {}, new AbortController().signal);
  } finally {
    engine.close();
  }
}
