// Byte sources: bounds, short reads at the end, the block cache and its bound, typed open errors.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockCache, BufferSource, SourceError } from '../../../../src/core/source';
import { FileSource } from '../../../../src/core/node/file-source';

let dir: string;
let imagePath: string;
const SIZE = 300_000;
const content = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) content[i] = (i * 7 + (i >> 8)) & 0xff;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'irpscope-source-'));
  imagePath = path.join(dir, 'image.bin');
  fs.writeFileSync(imagePath, content);
  fs.writeFileSync(path.join(dir, 'empty.bin'), new Uint8Array(0));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function errorOf(action: () => unknown): SourceError {
  try {
    action();
  } catch (error) {
    if (error instanceof SourceError) return error;
    throw error;
  }
  throw new Error('expected a SourceError');
}

describe('BufferSource', () => {
  it('reads within bounds, short at the end, empty past it, and returns copies', () => {
    const source = new BufferSource(Uint8Array.from([1, 2, 3, 4, 5]), 'five');
    expect(source.size).toBe(5);
    expect([...source.read(1, 3)]).toEqual([2, 3, 4]);
    expect([...source.read(3, 10)]).toEqual([4, 5]);
    expect(source.read(5, 4).length).toBe(0);
    expect(source.read(99, 4).length).toBe(0);
    const copy = source.read(0, 2);
    copy[0] = 0xff;
    expect(source.read(0, 1)[0]).toBe(1);
    expect(source.stats.reads).toBe(6);
  });

  it('rejects negative or fractional offsets and lengths, and reads after close', () => {
    const source = new BufferSource(new Uint8Array(8));
    expect(() => source.read(-1, 1)).toThrow(RangeError);
    expect(() => source.read(0, 1.5)).toThrow(RangeError);
    source.close();
    expect(errorOf(() => source.read(0, 1)).kind).toBe('closed');
  });
});

describe('FileSource', () => {
  it('reads the same bytes as the file at any offset, including across cache blocks', () => {
    const source = FileSource.open(imagePath, { blockSize: 4096, cacheBytes: 64 * 1024 });
    expect(source.size).toBe(SIZE);
    for (const [offset, length] of [
      [0, 16],
      [4090, 20],
      [12_345, 9000],
      [SIZE - 10, 10],
    ] as const) {
      expect(source.read(offset, length)).toEqual(content.slice(offset, offset + length));
    }
    expect(source.read(SIZE - 3, 100)).toEqual(content.slice(SIZE - 3));
    expect(source.read(SIZE, 1).length).toBe(0);
    source.close();
  });

  it('serves repeated small reads from the cache', () => {
    const source = FileSource.open(imagePath, { blockSize: 4096, cacheBytes: 64 * 1024 });
    source.read(8192 + 100, 8);
    const afterFirst = source.stats;
    for (let i = 0; i < 100; i++) source.read(8192 + ((i * 8) % 4000), 8);
    expect(source.stats.reads).toBe(afterFirst.reads);
    expect(source.stats.cacheHits).toBe(afterFirst.cacheHits + 100);
    source.close();
  });

  it('keeps the cache bounded: cycling through more blocks than fit evicts the oldest', () => {
    const source = FileSource.open(imagePath, { blockSize: 4096, cacheBytes: 4 * 4096 });
    for (let block = 0; block < 8; block++) source.read(block * 4096, 1);
    const reads = source.stats.reads;
    source.read(7 * 4096, 1); // still cached
    expect(source.stats.reads).toBe(reads);
    source.read(0, 1); // evicted long ago
    expect(source.stats.reads).toBe(reads + 1);
    source.close();
  });

  it("reuses an evicted block's buffer without changing what earlier reads returned", () => {
    const source = FileSource.open(imagePath, { blockSize: 4096, cacheBytes: 2 * 4096 });
    const kept: Array<[number, Uint8Array]> = [];
    // Every block of the file twice, in an order that evicts on nearly every read, with reads
    // that cross a block boundary and the short last block.
    const blocks = Math.ceil(SIZE / 4096);
    for (let round = 0; round < 2; round++)
      for (let step = 0; step < blocks; step++) {
        const offset = ((step * 37) % blocks) * 4096 + 4000;
        const read = source.read(offset, 200);
        expect(read).toEqual(content.slice(offset, offset + 200));
        kept.push([offset, read]);
      }
    for (const [offset, read] of kept) expect(read).toEqual(content.slice(offset, offset + 200));
    source.close();
  });

  it('bypasses the cache for direct and large reads', () => {
    const source = FileSource.open(imagePath, { blockSize: 4096, cacheBytes: 64 * 1024 });
    const direct = source.readDirect(1000, 200_000);
    expect(Buffer.from(direct).equals(content.subarray(1000, 201_000))).toBe(true);
    const big = source.read(50_000, 100_000); // more than 4 blocks
    expect(Buffer.from(big).equals(content.subarray(50_000, 150_000))).toBe(true);
    const reads = source.stats.reads;
    source.read(60_000, 4); // not cached by the big read
    expect(source.stats.reads).toBe(reads + 1);
    source.close();
  });

  it('gives typed errors for a missing file, a directory, an empty file, a non-file, and reads after close', () => {
    expect(errorOf(() => FileSource.open(path.join(dir, 'nope.bin'))).kind).toBe('not-found');
    const directory = errorOf(() => FileSource.open(dir));
    expect(directory.kind).toBe('directory');
    expect(directory.message).toMatch(/is a directory/);
    expect(errorOf(() => FileSource.open(path.join(dir, 'empty.bin'))).kind).toBe('empty');
    expect(errorOf(() => FileSource.open('/dev/null')).kind).toBe('unreadable');
    const source = FileSource.open(imagePath);
    source.close();
    expect(errorOf(() => source.read(0, 1)).kind).toBe('closed');
  });
});

describe('BlockCache', () => {
  it('evicts the least recently used block', () => {
    const cache = new BlockCache(2);
    cache.set(1, new Uint8Array([1]));
    cache.set(2, new Uint8Array([2]));
    cache.get(1);
    cache.set(3, new Uint8Array([3]));
    expect(cache.get(2)).toBeUndefined();
    expect(cache.get(1)?.[0]).toBe(1);
    expect(cache.size).toBe(2);
  });
});
