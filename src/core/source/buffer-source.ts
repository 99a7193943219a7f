// A byte source over memory: the tests' material, and small companion files.

import { clampRead, SourceError, type ByteSource, type SourceStats } from './types';

export class BufferSource implements ByteSource {
  readonly size: number;
  readonly #stats: SourceStats = { bytesRead: 0, reads: 0, cacheHits: 0 };
  #closed = false;

  constructor(
    readonly bytes: Uint8Array,
    readonly name = 'buffer',
  ) {
    this.size = bytes.length;
  }

  get stats(): Readonly<SourceStats> {
    return { ...this.#stats };
  }

  read(offset: number, length: number): Uint8Array {
    if (this.#closed) throw new SourceError('closed', `${this.name}: read after close`);
    const count = clampRead(this.size, offset, length);
    this.#stats.reads++;
    this.#stats.bytesRead += count;
    // A copy, so callers can never write into the image.
    return this.bytes.slice(offset, offset + count);
  }

  readDirect(offset: number, length: number): Uint8Array {
    return this.read(offset, length);
  }

  close(): void {
    this.#closed = true;
  }
}
