// A file opened read-only and read by position. Small reads (page-table entries, structure
// fields) go through a bounded LRU cache of 64 KiB blocks; large ones go straight to the file.
// The image is never read whole (../shared/DESIGN.md, "Never hold the image in memory").

import * as fs from 'node:fs';
import { BlockCache } from '../source/block-cache';
import { clampRead, SourceError, type ByteSource, type SourceStats } from '../source/types';

export interface FileSourceOptions {
  /** Block size of the cache, a power of two (default 64 KiB). */
  blockSize?: number;
  /** Total cache budget in bytes (default 16 MiB). */
  cacheBytes?: number;
}

const DEFAULT_BLOCK = 64 * 1024;
const DEFAULT_CACHE = 16 * 1024 * 1024;
/** Reads longer than this many blocks bypass the cache so a scan does not flush it. */
const DIRECT_AFTER_BLOCKS = 4;

export class FileSource implements ByteSource {
  readonly size: number;
  readonly #fd: number;
  readonly #blockSize: number;
  readonly #cache: BlockCache;
  readonly #stats: SourceStats = { bytesRead: 0, reads: 0, cacheHits: 0 };
  /** The buffer of the block last evicted: the next block read reuses it rather than allocating. */
  #spare: Uint8Array | null = null;
  #closed = false;

  private constructor(
    readonly name: string,
    fd: number,
    size: number,
    options: FileSourceOptions,
  ) {
    this.#fd = fd;
    this.size = size;
    this.#blockSize = options.blockSize ?? DEFAULT_BLOCK;
    if (!Number.isInteger(Math.log2(this.#blockSize)) || this.#blockSize < 512)
      throw new RangeError(`blockSize must be a power of two ≥ 512, got ${this.#blockSize}`);
    const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE;
    this.#cache = new BlockCache(Math.max(1, Math.floor(cacheBytes / this.#blockSize)));
  }

  /** Opens `path` read-only. Throws `SourceError` for a missing file, a directory, an empty or unreadable file. */
  static open(path: string, options: FileSourceOptions = {}): FileSource {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(path);
    } catch (error) {
      throw describeOpenError(path, error);
    }
    if (stat.isDirectory()) throw new SourceError('directory', `${path} is a directory, not an image file`);
    if (!stat.isFile()) throw new SourceError('unreadable', `${path} is not a regular file`);
    if (stat.size === 0) throw new SourceError('empty', `${path} is empty (0 bytes)`);
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (error) {
      throw describeOpenError(path, error);
    }
    return new FileSource(path, fd, stat.size, options);
  }

  get stats(): Readonly<SourceStats> {
    return { ...this.#stats };
  }

  read(offset: number, length: number): Uint8Array {
    this.#checkOpen();
    const count = clampRead(this.size, offset, length);
    if (count === 0) return new Uint8Array(0);
    const first = Math.floor(offset / this.#blockSize);
    const last = Math.floor((offset + count - 1) / this.#blockSize);
    if (last - first + 1 > DIRECT_AFTER_BLOCKS) return this.readDirect(offset, count);

    const out = new Uint8Array(count);
    let hitsOnly = true;
    for (let index = first; index <= last; index++) {
      let block = this.#cache.get(index);
      if (block === undefined) {
        hitsOnly = false;
        const blockStart = index * this.#blockSize;
        block = this.#readBlock(blockStart);
        this.#spare = this.#cache.set(index, block) ?? null;
      }
      const blockStart = index * this.#blockSize;
      const from = Math.max(offset, blockStart) - blockStart;
      const to = Math.min(offset + count, blockStart + block.length) - blockStart;
      if (to > from) out.set(block.subarray(from, to), blockStart + from - offset);
    }
    if (hitsOnly) this.#stats.cacheHits++;
    return out;
  }

  readDirect(offset: number, length: number): Uint8Array {
    this.#checkOpen();
    const count = clampRead(this.size, offset, length);
    return this.#readFromFile(offset, count);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cache.clear();
    fs.closeSync(this.#fd);
  }

  #readBlock(blockStart: number): Uint8Array {
    const count = Math.min(this.#blockSize, this.size - blockStart);
    const spare = this.#spare;
    this.#spare = null;
    return this.#readFromFile(blockStart, count, spare?.length === count ? spare : undefined);
  }

  #readFromFile(offset: number, count: number, into?: Uint8Array): Uint8Array {
    const out = into ?? new Uint8Array(count);
    let done = 0;
    while (done < count) {
      let got: number;
      try {
        got = fs.readSync(this.#fd, out, done, count - done, offset + done);
      } catch (error) {
        throw new SourceError(
          'unreadable',
          `${this.name}: read at ${offset + done} failed: ${errorCode(error)}`,
        );
      }
      this.#stats.reads++;
      this.#stats.bytesRead += got;
      if (got === 0) return out.slice(0, done); // the file shrank under us
      done += got;
    }
    return out;
  }

  #checkOpen(): void {
    if (this.#closed) throw new SourceError('closed', `${this.name}: read after close`);
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : String(error);
}

function describeOpenError(path: string, error: unknown): SourceError {
  const code = errorCode(error);
  if (code === 'ENOENT' || code === 'ENOTDIR') return new SourceError('not-found', `${path} does not exist`);
  if (code === 'EISDIR') return new SourceError('directory', `${path} is a directory, not an image file`);
  if (code === 'EACCES' || code === 'EPERM')
    return new SourceError('unreadable', `${path} cannot be read: permission denied`);
  return new SourceError('unreadable', `${path} cannot be opened: ${code}`);
}
