// The engine as the workbench's session workers use it (src/core/node/engine.ts): opened with the
// early pool scan, it gives exactly the analysis of the plain path and of `analyzeImage`.

import { expect, test } from 'vitest';
import type { AnalysisResult, Progress } from '../../../src/common/model';
import { analyzeImage } from '../../../src/core/node/analyze';
import { openEngine } from '../../../src/core/node/engine';
import { imageForSuite, isfFiles } from '../../support/images';

const image = imageForSuite({
  isf: isfFiles().find((f) => f.isf.includes('1C9875F7'))!.isf,
  format: 'dmp-full',
  scenario: 'infected',
  size: 64 * 1024 * 1024,
  seed: 61,
  fill: 'random',
});

const withoutTimings = (result: AnalysisResult) =>
  JSON.stringify({
    ...result,
    image: { ...result.image, timings: [], bytesRead: 0 },
    stats: { ...result.stats, timings: [] },
  });

async function analyseWithEngine(analyzeAfterOpen: boolean, progress: Progress[]) {
  const engine = await openEngine(image.image, { analyzeAfterOpen }, (p) => progress.push(p));
  const openProgress = progress.length;
  try {
    const result = await engine.analyze((p) => progress.push(p), new AbortController().signal);
    return { result, openProgress };
  } finally {
    engine.close();
  }
}

test('opened for analysis, the pool scan runs while the kernel is found; the result is the same', async () => {
  const early: Progress[] = [];
  const plain: Progress[] = [];
  const withEarlyScan = await analyseWithEngine(true, early);
  const withoutEarlyScan = await analyseWithEngine(false, plain);
  expect(early.slice(0, withEarlyScan.openProgress).some((p) => p.stage === 'pool scan')).toBe(true);
  expect(withoutEarlyScan.openProgress).toBe(0);
  expect(withEarlyScan.result.drivers.length).toBe(
    image.truth.drivers.length + image.truth.staleDrivers.length,
  );
  expect(withoutTimings(withEarlyScan.result)).toBe(withoutTimings(withoutEarlyScan.result));
  expect(withoutTimings(withEarlyScan.result)).toBe(withoutTimings(await analyzeImage(image.image)));
});
