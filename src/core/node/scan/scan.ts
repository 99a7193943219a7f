// One streaming pass over the physical image looking for pool tags, on every core: worker
// threads over shares of the file, or in-process for small images.

import { availableParallelism } from 'node:os';
import type { PhysicalSpace } from '../../image';
import { siblingWorker } from '../util/worker';
import { scanShare } from './scan-file';
import { segmentsOf, shareSegments } from '../../scan/segments';
import { SCAN_TAGS, type ScanResult, type TagHit } from '../../scan/tags';

export interface ScanOptions {
  /** The file the space's runs point into. */
  dataFile: string;
  alignment: 8 | 16;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** Below this many bytes the scan runs in-process (worker start-up would cost more). */
  inProcessBelow?: number;
  /**
   * Worker threads (default: one per core). One is still a thread of its own: the main thread
   * meanwhile finds the kernel, and a diff runs two analyses, each with its share of the cores.
   */
  workers?: number;
}

export async function scanPool(space: PhysicalSpace, options: ScanOptions): Promise<ScanResult> {
  const segments = segmentsOf(space, options.alignment);
  const total = segments.reduce((n, s) => n + s.length, 0);
  const workers = Math.max(1, options.workers ?? availableParallelism());
  let scanned = 0;
  const progress = (bytes: number) => {
    scanned += bytes;
    options.onProgress?.(total ? Math.min(1, scanned / total) : 1);
  };
  if (total < (options.inProcessBelow ?? 512 * 1024 * 1024)) {
    const result = scanShare({
      path: options.dataFile,
      segments,
      alignment: options.alignment,
      tags: SCAN_TAGS,
      onProgress: progress,
      shouldStop: () => options.signal?.aborted ?? false,
    });
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('cancelled');
    return { hits: sortHits(result.hits), bytesScanned: result.bytes, workers: 1 };
  }
  const shares = shareSegments(segments, workers, options.alignment);
  const results = await Promise.all(
    shares.map(
      (share) =>
        new Promise<TagHit[]>((resolve, reject) => {
          const worker = siblingWorker(import.meta.url, 'scan-worker', {
            workerData: {
              path: options.dataFile,
              segments: share,
              alignment: options.alignment,
              tags: SCAN_TAGS,
            },
          });
          const abort = () =>
            void worker.terminate().then(() => reject(options.signal?.reason ?? new Error('cancelled')));
          options.signal?.addEventListener('abort', abort, { once: true });
          worker.on(
            'message',
            (message: { type: 'progress'; bytes: number } | { type: 'done'; hits: TagHit[] }) => {
              if (message.type === 'progress') progress(message.bytes);
              else {
                options.signal?.removeEventListener('abort', abort);
                resolve(message.hits);
                void worker.terminate();
              }
            },
          );
          worker.on('error', (error) => {
            options.signal?.removeEventListener('abort', abort);
            reject(error);
          });
        }),
    ),
  );
  return { hits: sortHits(results.flat()), bytesScanned: scanned, workers: shares.length };
}

function sortHits(hits: TagHit[]): TagHit[] {
  return hits.sort((a, b) => a.headerPa - b.headerPa);
}
