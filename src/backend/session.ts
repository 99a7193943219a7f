// One opened image: its worker thread, its state as the UI sees it, its cached result. Cancel
// and close terminate the worker, which stops the work wherever it is (even inside a synchronous
// loop of the engine); a worker that dies or throws turns the session into a failed one.

import { countsOf } from '../common/counts';
import type { Worker } from 'node:worker_threads';
import type {
  MemoryChunk,
  MemorySpace,
  SessionRole,
  SessionSummary,
  StructureKind,
  StructureView,
} from '../common/api';
import { severityRank, type Severity } from '../common/findings';
import type { AnalysisResult, Disassembly } from '../common/model';
import type { EngineOptions } from './engine-contract';
import type { ExtractedImage } from '../core/extract';
import type { AnalysisSlots, Release } from './slots';
import { startWorker } from './start-worker';
import type { SessionWorkerData, WorkerMessage, WorkerRequest } from './worker-protocol';

export interface SessionSettings {
  engineModule: string | null;
  /** Where an analysis waits for its turn (a limited number run at once). */
  slots: AnalysisSlots;
  /** Heap limit of each worker thread, so one hostile image cannot take the app's memory. */
  workerMemoryMb: number;
  emit: (summary: SessionSummary) => void;
  /** The image's case: a saved result to reuse instead of analysing, and where a new one goes. */
  cases?: {
    reuse(): Promise<{ result: AnalysisResult | null; note: string | null }>;
    analysed(result: AnalysisResult): Promise<void>;
  };
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

// Distributive over the request union, so each method keeps its own fields.
type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

const EMIT_INTERVAL_MS = 100;
/**
 * A worker that has answered nothing for this long is ended: an open image costs its result only
 * (the views, flows and comparisons need nothing more) until the hex view asks for bytes again.
 */
const IDLE_WORKER_MS = 30_000;

export class Session {
  readonly summary: SessionSummary;
  result: AnalysisResult | null = null;
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextRequest = 1;
  private lastEmit = 0;
  private emitTimer: NodeJS.Timeout | null = null;
  private crash: string | null = null;
  private closed = false;
  private release: Release | null = null;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    id: string,
    path: string,
    label: string,
    role: SessionRole,
    private readonly options: EngineOptions,
    private readonly settings: SessionSettings,
  ) {
    this.summary = {
      id,
      path,
      label,
      role,
      state: 'queued',
      progress: null,
      error: null,
      info: null,
      counts: null,
      caseNote: null,
    };
  }

  get state(): SessionSummary['state'] {
    return this.summary.state;
  }

  /** Starts the analysis once `prepared` (building a demo or practice image) has settled. */
  start(prepared: Promise<unknown> = Promise.resolve(), preparing?: string): void {
    if (preparing) this.update({ progress: { stage: preparing, fraction: 0 } }, true);
    prepared.then(
      () =>
        // Whatever goes wrong from here fails this session, never the process.
        this.analyse().catch((error: unknown) =>
          this.fail(this.summary.progress?.stage ?? 'open case', (error as Error)?.message ?? String(error)),
        ),
      (error: unknown) => this.fail(preparing ?? 'prepare image', (error as Error).message ?? String(error)),
    );
  }

  /**
   * The result describes a file that is not there any more (its case found out): it goes, and the
   * image is analysed again, with why.
   */
  analyseAgain(note: string): void {
    if (this.closed || this.state !== 'ready') return;
    this.stopWorker('the image is analysed again');
    this.result = null;
    this.update(
      { state: 'queued', counts: null, caseNote: note, progress: { stage: 'analyse again', fraction: 0 } },
      true,
    );
    this.start();
  }

  private async analyse(): Promise<void> {
    if (this.closed || this.state !== 'queued') return;
    const reused = await this.settings.cases?.reuse();
    if (this.closed || this.state !== 'queued') return;
    if (reused?.result) {
      this.restore(reused.result, reused.note);
      return;
    }
    if (reused?.note) this.update({ caseNote: reused.note }, true);
    const slots = this.settings.slots;
    const granted = slots.acquire(this);
    const ahead = slots.position(this);
    if (ahead >= 0)
      this.update(
        {
          progress: {
            stage: 'waiting for a free core',
            fraction: 0,
            detail: `${ahead + 1} analyses ahead`,
          },
        },
        true,
      );
    const release = await granted;
    if (this.closed || this.state !== 'queued') {
      release();
      return;
    }
    this.release = release;
    this.update({ state: 'analysing', progress: { stage: 'load engine', fraction: 0 } }, true);
    this.spawn('analyse');
  }

  /** Ready at once with a result saved earlier; a worker starts only when bytes are asked for. */
  private restore(result: AnalysisResult, note: string | null): void {
    this.result = result;
    this.update(
      {
        state: 'ready',
        progress: { stage: 'done', fraction: 1 },
        info: result.image,
        counts: summaryCounts(result),
        caseNote: note,
      },
      true,
    );
  }

  cancel(): void {
    if (this.state !== 'analysing' && this.state !== 'queued') return;
    this.settings.slots.withdraw(this);
    this.stopWorker('analysis cancelled');
    this.update({ state: 'cancelled', progress: null }, true);
    this.endAnalysis();
  }

  close(): void {
    this.closed = true;
    if (this.emitTimer) clearTimeout(this.emitTimer);
    this.settings.slots.withdraw(this);
    this.stopWorker('session closed');
    this.endAnalysis();
    // The result is the session's biggest belonging: let it go with the session.
    this.result = null;
  }

  /** The analysis is over (done, failed, cancelled): its slot goes to the next one waiting. */
  private endAnalysis(): void {
    const release = this.release;
    this.release = null;
    release?.();
  }

  /** Thread id of the live worker, for tests that check a worker really ended. */
  get workerThreadId(): number | null {
    return this.worker?.threadId ?? null;
  }

  readMemory(space: MemorySpace, address: string, length: number): Promise<MemoryChunk> {
    return this.request({ method: 'readMemory', space, address, length }) as Promise<MemoryChunk>;
  }

  disassemble(address: string, count: number): Promise<Disassembly> {
    return this.request({ method: 'disassemble', address, count }) as Promise<Disassembly>;
  }

  structure(kind: StructureKind, address: string): Promise<StructureView> {
    return this.request({ method: 'structure', kind, address }) as Promise<StructureView>;
  }

  extractImage(base: bigint, fallbackSize: number | null): Promise<ExtractedImage> {
    return this.request({
      method: 'extractImage',
      base: `0x${base.toString(16)}`,
      fallbackSize,
    }) as Promise<ExtractedImage>;
  }

  private request(body: RequestBody): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the session is closed'));
    if (this.state === 'failed' || this.state === 'cancelled' || this.state === 'queued') {
      return Promise.reject(new Error(`the image is not open (analysis ${this.state})`));
    }
    // A worker that died after the analysis (a hostile page crashed a read) is restarted to serve.
    if (!this.worker) this.spawn('serve');
    this.stopIdleTimer();
    const id = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ ...body, id } as WorkerRequest);
    });
  }

  private spawn(mode: SessionWorkerData['mode']): void {
    const engineModule = this.settings.engineModule;
    const data: SessionWorkerData = { path: this.summary.path, options: this.options, engineModule, mode };
    const worker = startWorker(import.meta.url, 'session-worker', {
      workerData: data,
      // A TypeScript engine (the tests' stand-in) needs tsx even when this code runs from a bundle.
      typescript: !!engineModule && /\.[cm]?ts$/.test(engineModule),
      resourceLimits: { maxOldGenerationSizeMb: this.settings.workerMemoryMb },
      stdout: false,
      stderr: false,
    });
    this.worker = worker;
    this.crash = null;
    worker.on('message', (message: WorkerMessage) => this.onMessage(message));
    worker.on('error', (error) => {
      this.crash = error.message || String(error);
    });
    worker.on('exit', (code) => this.onExit(worker, code));
  }

  private onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case 'progress':
        if (this.state === 'analysing') {
          const newStage = message.progress.stage !== this.summary.progress?.stage;
          this.update({ progress: message.progress }, newStage || message.progress.fraction >= 1);
        }
        break;
      case 'info':
        this.update({ info: message.info }, true);
        break;
      case 'result':
        this.finish(message.result);
        break;
      case 'failed':
        this.fail(message.stage, message.message);
        break;
      case 'response': {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (message.error !== undefined) pending.reject(new Error(message.error));
        else pending.resolve(message.value);
        if (this.pending.size === 0) this.startIdleTimer();
        break;
      }
    }
  }

  /** Ready once the result is saved in the case: what is ready has its case (and is in Recent). */
  private finish(result: AnalysisResult): void {
    // The analysis worker holds the image and the engine's state: end it until it is needed.
    this.stopWorker('analysis done');
    void (this.settings.cases?.analysed(result) ?? Promise.resolve()).then(() => {
      // Saving is the analysis's last step: its slot goes to the next one only now.
      this.endAnalysis();
      if (this.closed || this.state !== 'analysing') return;
      this.result = result;
      this.update(
        {
          state: 'ready',
          progress: { stage: 'done', fraction: 1 },
          info: result.image,
          counts: summaryCounts(result),
        },
        true,
      );
    });
  }

  private onExit(worker: Worker, code: number): void {
    if (this.worker !== worker) return;
    this.worker = null;
    const reason =
      this.crash ??
      (code === 0
        ? 'the analysis worker ended without a result'
        : `the analysis worker exited with code ${code}`);
    this.rejectPending(reason);
    if (this.state === 'analysing') this.fail(this.summary.progress?.stage ?? 'analysis', reason);
  }

  private fail(stage: string, message: string): void {
    if (this.state === 'failed' || this.state === 'cancelled' || this.closed) return;
    this.stopWorker(`analysis failed at stage ${stage}: ${message}`);
    this.update({ state: 'failed', error: { stage, message } }, true);
    this.endAnalysis();
  }

  private startIdleTimer(): void {
    this.stopIdleTimer();
    this.idleTimer = setTimeout(() => {
      if (this.pending.size === 0 && this.state === 'ready') this.stopWorker('idle');
    }, IDLE_WORKER_MS);
    this.idleTimer.unref();
  }

  private stopIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private stopWorker(reason: string): void {
    this.stopIdleTimer();
    const worker = this.worker;
    this.worker = null;
    this.rejectPending(reason);
    if (worker) void worker.terminate();
  }

  private rejectPending(reason: string): void {
    for (const pending of this.pending.values()) pending.reject(new Error(reason));
    this.pending.clear();
  }

  private update(patch: Partial<SessionSummary>, immediate: boolean): void {
    Object.assign(this.summary, patch);
    if (this.closed) return;
    const now = Date.now();
    if (immediate || now - this.lastEmit >= EMIT_INTERVAL_MS) {
      this.flush();
    } else if (!this.emitTimer) {
      this.emitTimer = setTimeout(() => this.flush(), EMIT_INTERVAL_MS - (now - this.lastEmit));
    }
  }

  private flush(): void {
    if (this.emitTimer) clearTimeout(this.emitTimer);
    this.emitTimer = null;
    this.lastEmit = Date.now();
    this.settings.emit(structuredClone(this.summary));
  }
}

function summaryCounts(result: AnalysisResult): NonNullable<SessionSummary['counts']> {
  let highest: Severity | null = null;
  for (const finding of result.findings) {
    if (highest === null || severityRank(finding.severity) > severityRank(highest))
      highest = finding.severity;
  }
  const counts = countsOf(result);
  return {
    drivers: counts.drivers,
    devices: counts.devices,
    findings: counts.findings,
    highestSeverity: highest,
  };
}
