// Worker thread: scans one share of the image and posts its hits.

import { parentPort, workerData } from 'node:worker_threads';
import { scanShare, type ScanShareOptions } from './scan-file';

const options = workerData as Omit<ScanShareOptions, 'onProgress' | 'shouldStop'>;
let pending = 0;
const result = scanShare({
  ...options,
  onProgress: (bytes) => {
    pending += bytes;
    if (pending >= 64 * 1024 * 1024) {
      parentPort!.postMessage({ type: 'progress', bytes: pending });
      pending = 0;
    }
  },
});
parentPort!.postMessage({ type: 'progress', bytes: pending });
parentPort!.postMessage({ type: 'done', hits: result.hits, bytes: result.bytes });
