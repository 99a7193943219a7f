// Builds one image with the test-image builder off the main thread (a 64 MiB image takes a
// second or two of CPU; the desktop app's main process must not freeze meanwhile).

import { parentPort, workerData } from 'node:worker_threads';
import { buildImage, type BuildImageOptions } from '../builder/index';

export type BuilderReply = { ok: true; image: string } | { ok: false; message: string };

try {
  const result = buildImage(workerData as BuildImageOptions);
  parentPort!.postMessage({ ok: true, image: result.image } satisfies BuilderReply);
} catch (error) {
  parentPort!.postMessage({
    ok: false,
    message: (error as Error).message ?? String(error),
  } satisfies BuilderReply);
}
