// Starts a worker thread from a sibling module of the caller, whether the code runs from the
// TypeScript sources (tests, tsx: the worker is the .ts file, loaded after registering tsx in
// the new thread) or from a bundle (CLI, Electron: the worker is a .js file next to the bundle).

import { Worker, type WorkerOptions } from 'node:worker_threads';

export function siblingWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  const fromSource = /\.[cm]?ts$/.test(new URL(callerUrl).pathname);
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, callerUrl);
  if (!fromSource) return new Worker(url, options);
  // A loader given through execArgv does not reach worker threads on every Node 20 release:
  // register tsx inside the thread, then load the module.
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
