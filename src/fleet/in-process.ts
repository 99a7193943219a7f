// `fleet run`: the fleet's jobs on this machine, without Redis. The same job function as the
// BullMQ worker, on a queue held in memory: baselines first, then hosts, a fixed number at a time,
// each job tried up to `attempts` times. A job whose summary is already in the results folder (a
// run stopped half-way and started again) is not run again.

import type { AnalysisResult } from '../common/model';
import { oneLine } from './errors';
import { currentEngine, jobIdOf } from './identity';
import type { NamedImage } from './inputs';
import { recordFailure, runFleetJob, type BaselineSource, type JobContext } from './job';
import { buildFleetReport, type JobView } from './report';
import { ResultsFolder } from './results';
import {
  baselineSummarySchema,
  hostSummarySchema,
  type BaselineSummary,
  type FleetJobData,
  type FleetReport,
  type HostSummary,
} from './types';
import { fileIdentity } from './identity';

export interface FleetRunProgress {
  total: number;
  done: number;
  failed: number;
  /** Labels of the jobs running now. */
  active: string[];
}

export interface FleetRunOptions {
  fleet: string;
  baselines: readonly NamedImage[];
  hosts: readonly NamedImage[];
  results: ResultsFolder;
  /** Jobs at once (default: the number of cores). */
  concurrency: number;
  /** Worker threads per analysis. */
  scanWorkers: number;
  attempts: number;
  symbols?: string | null;
  worker: string;
  onProgress?: (progress: FleetRunProgress) => void;
  /** Called when a job starts and ends (for logs). */
  onJob?: (event: {
    label: string;
    kind: FleetJobData['kind'];
    phase: 'start' | 'done' | 'failed' | 'retry';
    detail?: string;
  }) => void;
  signal?: AbortSignal;
}

interface QueuedJob {
  id: string;
  data: FleetJobData;
}

/** Baselines of an in-process run: each settles when its job ends, whatever the outcome. */
class LocalBaselines implements BaselineSource {
  private readonly pending = new Map<string, Promise<void>>();
  private readonly release = new Map<string, () => void>();
  private readonly summaries = new Map<string, BaselineSummary>();
  private readonly analyses = new Map<string, AnalysisResult>();

  constructor(
    ids: readonly string[],
    private readonly results: ResultsFolder,
  ) {
    for (const id of ids) this.pending.set(id, new Promise<void>((resolve) => this.release.set(id, resolve)));
  }

  settle(summary: BaselineSummary): void {
    this.summaries.set(summary.jobId, summary);
    this.release.get(summary.jobId)?.();
  }

  async settled(host: FleetJobData): Promise<BaselineSummary[]> {
    await Promise.all(host.baselines.map((id) => this.pending.get(id)));
    return host.baselines.map((id) => this.summaries.get(id)!);
  }

  async analysis(summary: BaselineSummary): Promise<AnalysisResult> {
    const known = this.analyses.get(summary.jobId);
    if (known) return known;
    if (!summary.files.analysis) throw new Error(`the baseline ${summary.label} has no analysis`);
    const loaded = this.results.readJson(summary.fleet, summary.files.analysis) as AnalysisResult;
    this.analyses.set(summary.jobId, loaded);
    return loaded;
  }

  async publish(summary: BaselineSummary, analysis: AnalysisResult): Promise<void> {
    this.analyses.set(summary.jobId, analysis);
  }
}

function jobData(
  fleet: string,
  kind: FleetJobData['kind'],
  named: NamedImage,
  symbols: string | null,
  baselines: string[],
): FleetJobData {
  return {
    kind,
    fleet,
    image: named.image,
    label: named.label,
    identity: fileIdentity(named.image),
    engine: currentEngine(),
    submittedAt: new Date(0).toISOString(),
    symbols,
    baselines,
  };
}

/** A summary this fleet's results folder already holds for the job, if it finished well. */
function finishedBefore(results: ResultsFolder, job: QueuedJob): HostSummary | BaselineSummary | null {
  const kind = job.data.kind === 'host' ? 'hosts' : 'baselines';
  try {
    const value = results.readJson(job.data.fleet, `${ResultsFolder.jobFolder(kind, job.id)}/summary.json`);
    const summary =
      job.data.kind === 'host' ? hostSummarySchema.parse(value) : baselineSummarySchema.parse(value);
    return summary.state === 'done' ? summary : null;
  } catch {
    return null;
  }
}

export async function runFleetInProcess(options: FleetRunOptions): Promise<FleetReport> {
  const symbols = options.symbols ?? null;
  const baselineJobs = options.baselines
    .map((b) => jobData(options.fleet, 'baseline', b, symbols, []))
    .map((data) => ({ id: jobIdOf(data), data }));
  const baselineIds = baselineJobs.map((j) => j.id);
  const queued: QueuedJob[] = [
    ...baselineJobs,
    ...options.hosts
      .map((h) => jobData(options.fleet, 'host', h, symbols, baselineIds))
      .map((data) => ({ id: jobIdOf(data), data })),
  ];
  const baselines = new LocalBaselines(baselineIds, options.results);
  const outcomes = new Map<string, HostSummary | BaselineSummary>();
  const progress: FleetRunProgress = { total: queued.length, done: 0, failed: 0, active: [] };
  const context: JobContext = {
    results: options.results,
    baselines,
    mapPath: (path) => path,
    worker: options.worker,
    scanWorkers: options.scanWorkers,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const engine = currentEngine();

  const finish = (job: QueuedJob, summary: HostSummary | BaselineSummary): void => {
    outcomes.set(job.id, summary);
    if (summary.state === 'done') progress.done++;
    else progress.failed++;
    if (job.data.kind === 'baseline') baselines.settle(summary as BaselineSummary);
  };

  const runOne = async (job: QueuedJob): Promise<void> => {
    const before = finishedBefore(options.results, job);
    if (before) return finish(job, before);
    const startedAt = new Date();
    for (let attempt = 1; ; attempt++) {
      options.signal?.throwIfAborted();
      options.onJob?.({ label: job.data.label, kind: job.data.kind, phase: 'start' });
      try {
        const outcome = await runFleetJob(job.data, job.id, context, engine);
        // Baselines run first and are awaited, so a host is never asked to come back later here.
        if (outcome.kind === 'later') throw new Error('a baseline of the fleet did not start');
        options.onJob?.({ label: job.data.label, kind: job.data.kind, phase: 'done' });
        return finish(job, outcome.summary);
      } catch (error) {
        options.signal?.throwIfAborted();
        const last = attempt >= options.attempts;
        options.onJob?.({
          label: job.data.label,
          kind: job.data.kind,
          phase: last ? 'failed' : 'retry',
          detail: oneLine(error),
        });
        if (last) return finish(job, recordFailure(job.data, job.id, error, context, engine, startedAt));
      }
    }
  };

  let next = 0;
  const slot = async (): Promise<void> => {
    while (next < queued.length) {
      const job = queued[next++]!;
      progress.active.push(job.data.label);
      options.onProgress?.(progress);
      try {
        await runOne(job);
      } finally {
        progress.active.splice(progress.active.indexOf(job.data.label), 1);
        options.onProgress?.(progress);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, slot));

  const view = <S extends HostSummary | BaselineSummary>(job: QueuedJob): JobView<S> => {
    const summary = (outcomes.get(job.id) as S | undefined) ?? null;
    return {
      image: job.data.image,
      label: job.data.label,
      submittedAt: job.data.submittedAt,
      state: summary?.state ?? 'queued',
      summary,
      error: null,
    };
  };
  return buildFleetReport(
    options.fleet,
    queued.filter((j) => j.data.kind === 'baseline').map((j) => view<BaselineSummary>(j)),
    queued.filter((j) => j.data.kind === 'host').map((j) => view<HostSummary>(j)),
  );
}
