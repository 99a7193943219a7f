// Starts a worker thread from a sibling module, from the TypeScript sources (tests, tsx) or from
// a bundle (Electron, the built server), like src/core/node/util/worker.ts — but loads TypeScript
// through tsx's register() inside the worker: on Node 20 a worker ignores `--import tsx` in its
// execArgv for its own entry module. `typescript` forces tsx even in a bundle (a .ts engine).

import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startWorker(
  callerUrl: string,
  name: string,
  options: WorkerOptions & { typescript?: boolean } = {},
): Worker {
  const { typescript, ...workerOptions } = options;
  const fromSource = /\.[cm]?ts$/.test(new URL(callerUrl).pathname);
  const entry = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, callerUrl);
  if (!fromSource && !typescript) return new Worker(entry, workerOptions);
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import { register } from ${JSON.stringify(tsx)};\n` +
    `register();\n` +
    `await import(${JSON.stringify(entry.href)});\n`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), workerOptions);
}
