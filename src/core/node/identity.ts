// An image's identity for its case: size, modification time and a quick hash of its first and
// last MiB (enough to notice a replaced or edited file at once), and the full SHA-256, computed
// in the background for the report (minutes for a large image), with progress and cancel.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export { sha256File } from './util/file-hash';

const EDGE = 1 << 20;

export interface ImageIdentity {
  path: string;
  size: number;
  mtimeMs: number;
  /** SHA-256 of the size, the first MiB and the last MiB. */
  quickHash: string;
}

export function quickIdentity(path: string): ImageIdentity {
  const stat = statSync(path);
  const hash = createHash('sha256').update(String(stat.size));
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(EDGE, stat.size));
    const readAt = (position: number) => {
      let done = 0;
      while (done < buffer.length) {
        const n = readSync(fd, buffer, done, buffer.length - done, position + done);
        if (n === 0) break;
        done += n;
      }
      hash.update(buffer.subarray(0, done));
    };
    readAt(0);
    if (stat.size > EDGE) readAt(stat.size - buffer.length);
  } finally {
    closeSync(fd);
  }
  return { path, size: stat.size, mtimeMs: Math.round(stat.mtimeMs), quickHash: hash.digest('hex') };
}

/** What differs between the identity a case recorded and the file now (empty: the same file). */
export function identityChanges(recorded: ImageIdentity, now: ImageIdentity): string[] {
  const changes: string[] = [];
  if (recorded.size !== now.size) changes.push(`its size changed (${recorded.size} → ${now.size} bytes)`);
  if (recorded.mtimeMs !== now.mtimeMs) changes.push('it was modified');
  if (recorded.quickHash !== now.quickHash) changes.push('its first or last MiB differs');
  return changes;
}
