// The lowest engine layer: something that hands out bytes at file offsets. Everything above reads
// through this interface, so a dump file, a buffer in a test and (later) a live VM look alike.

export interface SourceStats {
  /** Bytes fetched from the underlying medium (cache hits do not count). */
  bytesRead: number;
  /** Calls that reached the underlying medium. */
  reads: number;
  /** Reads answered wholly from the block cache. */
  cacheHits: number;
}

export interface ByteSource {
  /** A name for messages: the file path, or a label given to a buffer. */
  readonly name: string;
  readonly size: number;
  /**
   * `length` bytes from `offset`. Fewer bytes only when the range crosses the end of the source;
   * an empty array at or past the end. Never reads past the end.
   */
  read(offset: number, length: number): Uint8Array;
  /** Like `read`, but a large range for a streaming scan: bypasses (and does not disturb) any cache. */
  readDirect(offset: number, length: number): Uint8Array;
  readonly stats: Readonly<SourceStats>;
  close(): void;
}

export type SourceErrorKind = 'not-found' | 'directory' | 'empty' | 'unreadable' | 'closed';

/** Opening or reading a source failed in a way the caller should show as one line. */
export class SourceError extends Error {
  override readonly name = 'SourceError';
  constructor(
    readonly kind: SourceErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** Validates a read request; returns the number of bytes that can actually be read. */
export function clampRead(size: number, offset: number, length: number): number {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new RangeError(`read offset must be a non-negative integer, got ${offset}`);
  if (!Number.isSafeInteger(length) || length < 0)
    throw new RangeError(`read length must be a non-negative integer, got ${length}`);
  if (offset >= size) return 0;
  return Math.min(length, size - offset);
}
