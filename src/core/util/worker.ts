// Starts a worker thread from a sibling module of the caller, whether the code runs from the
// TypeScript sources (tests, tsx: the worker is the .ts file, loaded through tsx) or from a
// bundle (CLI, Electron: the worker is a .js file emitted next to the bundle).

import { Worker, type WorkerOptions } from 'node:worker_threads';

export function siblingWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  const fromSource = /\.[cm]?ts$/.test(new URL(callerUrl).pathname);
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, callerUrl);
  const execArgv = fromSource ? [...(options.execArgv ?? []), '--import', 'tsx'] : options.execArgv;
  return new Worker(url, { ...options, execArgv });
}
