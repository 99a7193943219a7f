// One session's worker thread: loads the engine, opens the image, analyses it, then answers
// memory, disassembly and structure requests for as long as the session lives. A crash here
// (a hostile image) ends this thread only; the session reports it as a failure.

import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { Progress } from '../common/model';
import type { EngineHandle, OpenEngine } from './engine-contract';
import type { SessionWorkerData, WorkerMessage, WorkerRequest } from './worker-protocol';

const data = workerData as SessionWorkerData;
const port = parentPort!;
/** Where a failure is reported to have happened. */
let stage = 'load engine';
let postedStage = '';
let lastPosted = 0;

function post(message: WorkerMessage): void {
  port.postMessage(message);
}

function onProgress(progress: Progress): void {
  const now = Date.now();
  const stageChanged = progress.stage !== postedStage;
  postedStage = progress.stage;
  // While opening, progress comes from the pool scan started early; a failure then is the open's.
  if (stage !== 'open image') stage = progress.stage;
  // Stage changes always pass; within a stage at most 20 updates a second.
  if (stageChanged || now - lastPosted >= 50 || progress.fraction >= 1) {
    lastPosted = now;
    post({ type: 'progress', progress });
  }
}

function engineUrl(): string {
  if (data.engineModule) {
    const spec = data.engineModule;
    return isAbsolute(spec) ? pathToFileURL(spec).href : spec;
  }
  // Beside this file: the bundled engine (engine.js) or, from sources, src/core/node/engine.ts.
  const fromSource = import.meta.url.endsWith('.ts');
  const relative = fromSource ? '../core/node/engine.ts' : './engine.js';
  return new URL(relative, import.meta.url).href;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

async function openEngine(): Promise<EngineHandle> {
  const module = (await import(engineUrl())) as { openEngine?: OpenEngine };
  if (typeof module.openEngine !== 'function') throw new Error(`${engineUrl()} does not export openEngine`);
  stage = 'open image';
  return await module.openEngine(
    data.path,
    { ...data.options, analyzeAfterOpen: data.mode === 'analyse' },
    onProgress,
  );
}

function answer(engine: EngineHandle, request: WorkerRequest): unknown {
  switch (request.method) {
    case 'readMemory':
      return engine.readMemory(request.space, BigInt(request.address), request.length);
    case 'disassemble':
      return engine.disassemble(BigInt(request.address), request.count);
    case 'structure':
      return engine.structure(request.kind, BigInt(request.address));
    case 'extractImage':
      return engine.extractImage(BigInt(request.base), request.fallbackSize);
  }
}

const opened = openEngine();
// Requests may arrive while the analysis runs; they wait for the engine to be open.
port.on('message', (request: WorkerRequest) => {
  opened.then(
    (engine) => {
      try {
        post({ type: 'response', id: request.id, value: answer(engine, request) });
      } catch (error) {
        post({ type: 'response', id: request.id, error: describe(error) });
      }
    },
    (error: unknown) => post({ type: 'response', id: request.id, error: describe(error) }),
  );
});

async function run(): Promise<void> {
  const engine = await opened;
  post({ type: 'info', info: engine.info() });
  if (data.mode === 'serve') return;
  stage = 'analysis';
  const result = await engine.analyze(onProgress, new AbortController().signal);
  post({ type: 'result', result });
}

run().catch((error: unknown) => {
  const failedStage = (error as { stage?: unknown })?.stage;
  post({
    type: 'failed',
    stage: typeof failedStage === 'string' ? failedStage : stage,
    message: describe(error),
  });
});
