// A file as a fuzz input sees it: the base image's bytes with patches laid over them, and
// optionally cut short. Nothing is written: a million inputs reuse one set of base images.

import { SourceError, clampRead, type ByteSource, type SourceStats } from '../../src/core/source';

export interface Patch {
  offset: number;
  bytes: Uint8Array;
}

export class OverlaySource implements ByteSource {
  readonly size: number;
  readonly name: string;
  readonly #stats: SourceStats = { bytesRead: 0, reads: 0, cacheHits: 0 };

  constructor(
    private readonly base: ByteSource,
    private readonly patches: readonly Patch[],
    truncateAt?: number,
  ) {
    this.size = truncateAt === undefined ? base.size : Math.min(base.size, truncateAt);
    this.name = base.name;
  }

  get stats(): Readonly<SourceStats> {
    return { ...this.#stats };
  }

  read(offset: number, length: number): Uint8Array {
    return this.patched(offset, length, false);
  }

  readDirect(offset: number, length: number): Uint8Array {
    return this.patched(offset, length, true);
  }

  close(): void {
    // The base belongs to the corpus.
  }

  private patched(offset: number, length: number, direct: boolean): Uint8Array {
    const count = clampRead(this.size, offset, length);
    if (count === 0) return new Uint8Array(0);
    const bytes = direct ? this.base.readDirect(offset, count) : this.base.read(offset, count);
    this.#stats.reads++;
    this.#stats.bytesRead += count;
    const touching = this.patches.filter(
      (p) => p.offset < offset + count && p.offset + p.bytes.length > offset,
    );
    if (touching.length === 0) return bytes;
    // A copy: the base's bytes may be its cache's.
    const out = new Uint8Array(bytes.length);
    out.set(bytes);
    for (const patch of touching) {
      const start = Math.max(offset, patch.offset);
      const end = Math.min(offset + bytes.length, patch.offset + patch.bytes.length);
      if (start < end)
        out.set(patch.bytes.subarray(start - patch.offset, end - patch.offset), start - offset);
    }
    return out;
  }
}

export { SourceError };
