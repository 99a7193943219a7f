// The builder's image writer: a sparse file leaves all-zero pages as holes, yet reads back exactly
// the bytes written, including zeros written over earlier data.

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { ImageFile } from '../../../src/builder/writers/stream';

const PAGE = 4096;
const work = mkdtempSync(join(tmpdir(), 'irpscope-image-file-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function pages(...fills: number[]): Uint8Array {
  const bytes = new Uint8Array(fills.length * PAGE);
  fills.forEach((fill, i) => bytes.fill(fill, i * PAGE, (i + 1) * PAGE));
  return bytes;
}

function write(sparse: boolean, name: string): Buffer {
  const path = join(work, name);
  const file = new ImageFile(path, sparse);
  file.writeAt(0, pages(0x11, 0x22, 0x33));
  file.writeAt(PAGE, pages(0)); // zeros over data already written
  file.append(pages(0, 0x44, 0, 0)); // holes and a data page past the end
  file.writeAt(20 * PAGE, new Uint8Array([0, 0, 7])); // a short tail after a gap
  file.close();
  return readFileSync(path);
}

test('sparse and dense files hold the same bytes', () => {
  const dense = write(false, 'dense.bin');
  const sparse = write(true, 'sparse.bin');
  expect(sparse.length).toBe(20 * PAGE + 3);
  expect(sparse.equals(dense)).toBe(true);
  expect(sparse[PAGE]).toBe(0);
  expect(sparse[2 * PAGE]).toBe(0x33);
  expect(sparse[4 * PAGE]).toBe(0x44);
  expect(sparse[20 * PAGE + 2]).toBe(7);
});

test('a sparse file allocates only the pages that hold data', () => {
  const path = join(work, 'mostly-zero.bin');
  const file = new ImageFile(path, true);
  const chunk = new Uint8Array(256 * PAGE);
  chunk.fill(0x5a, 100 * PAGE, 101 * PAGE);
  for (let i = 0; i < 16; i++) file.append(chunk);
  file.close();
  const { size, blocks } = statSync(path);
  expect(size).toBe(16 * 256 * PAGE);
  expect(blocks * 512).toBeLessThan(size / 8);
});
