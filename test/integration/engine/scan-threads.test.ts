// The pool scan of a large image runs on worker threads even when it is given only one: the
// main thread meanwhile finds the kernel, and a diff runs two analyses, each with half the cores.
// Given one worker, the scan once ran on the main thread, so a diff's two scans and both
// kernels' discovery took turns on it (4 GiB pair: 2.9 s against 1.9 s for two processes).

import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openImage } from '../../../src/core/node/open-image';
import { scanPool } from '../../../src/core/node/scan/scan';

let folder: string;
let path: string;

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'irpscope-scan-threads-'));
  path = join(folder, 'image.raw');
  writeFileSync(
    path,
    Uint8Array.from({ length: 4096 }, (_, i) => (i * 131) & 0xff),
  );
  truncateSync(path, 640 * 1024 * 1024); // sparse: above the in-process limit, cheap to read
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('the pool scan of a large image', () => {
  test.each([1, 2])('with %i worker(s) leaves the main thread free while it runs', async (workers) => {
    const space = openImage(path);
    try {
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 1);
      const result = await scanPool(space, { dataFile: path, alignment: 16, workers });
      clearInterval(ticker);
      expect(result.workers).toBe(workers);
      expect(result.bytesScanned).toBe(640 * 1024 * 1024);
      expect(ticks).toBeGreaterThan(0);
    } finally {
      space.close();
    }
  });
});
