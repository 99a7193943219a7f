// The demo case is made by the builder into the data folder on first use, and kept: but only an
// image this builder made. One that an older builder made lacks what this version plants (its
// callbacks, say) and is made again, or the demo would show less than the app can find.

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { builderFingerprint, demoImages, ensureImage } from '../../../src/backend/images';

const data = mkdtempSync(join(tmpdir(), 'irpscope-demo-'));
afterAll(() => rmSync(data, { recursive: true, force: true }));

const fileId = (path: string) => statSync(path).ino;

test('a demo image is made once by this builder, and again when another builder made it', async () => {
  const [, clean] = demoImages(data, {
    profile: 'xp-sp3-x86',
    size: 64 * 1024 * 1024,
    seed: 5,
    format: 'raw',
  });
  const stamp = join(clean!.build.out, 'builder-fingerprint');

  const first = await ensureImage(clean!);
  expect(first).toBe(clean!.path);
  expect(readFileSync(stamp, 'utf8').trim()).toBe(builderFingerprint());
  const made = fileId(first);

  await ensureImage(clean!);
  expect(fileId(clean!.path)).toBe(made);

  writeFileSync(stamp, '0123456789abcdef\n');
  await ensureImage(clean!);
  expect(fileId(clean!.path)).not.toBe(made);
  expect(readFileSync(stamp, 'utf8').trim()).toBe(builderFingerprint());

  // An image from before builders signed their work is made again too.
  const signed = fileId(clean!.path);
  unlinkSync(stamp);
  await ensureImage(clean!);
  expect(fileId(clean!.path)).not.toBe(signed);
  expect(existsSync(stamp)).toBe(true);
});

test("the fingerprint follows the builder's code", () => {
  const folder = mkdtempSync(join(data, 'bundle-'));
  const here = new URL(`file://${join(folder, 'images.js')}`).href;
  writeFileSync(join(folder, 'builder-worker.js'), 'one builder');
  const one = builderFingerprint(here);
  writeFileSync(join(folder, 'builder-worker.js'), 'another builder');
  expect(builderFingerprint(here)).not.toBe(one);
  expect(builderFingerprint()).toMatch(/^[0-9a-f]{16}$/);
});
