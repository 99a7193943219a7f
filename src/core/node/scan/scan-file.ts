// Streams file segments through findTags in fixed-size chunks (memory stays flat).

import { closeSync, openSync, readSync } from 'node:fs';
import type { Segment } from '../../scan/segments';
import { findTags, type ScanTag, type TagHit } from '../../scan/tags';

export const SCAN_CHUNK = 1024 * 1024;

export interface ScanShareOptions {
  path: string;
  segments: Segment[];
  alignment: 8 | 16;
  tags: readonly ScanTag[];
  onProgress?: (bytes: number) => void;
  shouldStop?: () => boolean;
}

export function scanShare(options: ScanShareOptions): { hits: TagHit[]; bytes: number } {
  const fd = openSync(options.path, 'r');
  const buffer = Buffer.allocUnsafe(SCAN_CHUNK);
  const hits: TagHit[] = [];
  let bytes = 0;
  try {
    for (const segment of options.segments) {
      for (let done = 0; done < segment.length; done += SCAN_CHUNK) {
        if (options.shouldStop?.()) return { hits, bytes };
        const length = Math.min(SCAN_CHUNK, segment.length - done);
        let read = 0;
        while (read < length) {
          const n = readSync(fd, buffer, read, length - read, segment.fileOffset + done + read);
          if (n === 0) break;
          read += n;
        }
        const usable = read - (read % options.alignment);
        findTags(buffer.subarray(0, usable), segment.pa + done, options.alignment, options.tags, hits);
        bytes += read;
        options.onProgress?.(read);
      }
    }
  } finally {
    closeSync(fd);
  }
  return { hits, bytes };
}
