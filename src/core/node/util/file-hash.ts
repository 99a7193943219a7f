// A file's SHA-256, streamed (memory stays flat whatever the size), with progress and cancel.

import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';

/** The file's SHA-256, read in 4 MiB chunks (memory stays flat); rejects with an AbortError when cancelled. */
export function sha256File(
  path: string,
  options: { onProgress?: (fraction: number) => void; signal?: AbortSignal } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const size = statSync(path).size;
    const hash = createHash('sha256');
    let done = 0;
    let lastReport = 0;
    const stream = createReadStream(path, { highWaterMark: 4 << 20, signal: options.signal });
    stream.on('data', (chunk) => {
      hash.update(chunk as Buffer);
      done += (chunk as Buffer).length;
      const now = Date.now();
      if (now - lastReport > 200) {
        lastReport = now;
        options.onProgress?.(size ? done / size : 1);
      }
    });
    stream.on('error', reject);
    stream.on('end', () => {
      options.onProgress?.(1);
      resolve(hash.digest('hex'));
    });
  });
}
