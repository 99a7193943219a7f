// The fleet on BullMQ: `submit` enqueues one job per image (its id from the image's identity, so a
// second submit of the same image adds nothing), `worker` runs the fleet job on any machine that
// sees the images, and status and report read the jobs back. One queue serves every fleet; each
// fleet's images are listed in a Redis hash beside it (image → job), so a fleet is read without
// scanning the queue.
//
// Redis keys besides BullMQ's own (irpscope:fleet:*):
//   irpscope:fleets                         set of fleet names
//   irpscope:fleets:<fleet>:hosts           hash: image path → {"jobId","label","submittedAt"}
//   irpscope:fleets:<fleet>:baselines       the same for the baselines
//   irpscope:fleets:<fleet>:analysis:<job>  a finished baseline's analysis, gzip'd JSON

import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DelayedError, Queue, Worker, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { AnalysisResult } from '../common/model';
import { FleetError, oneLine } from './errors';
import { currentEngine, fileIdentity, jobIdOf } from './identity';
import type { NamedImage } from './inputs';
import { recordFailure, runFleetJob, type BaselineSource, type JobContext } from './job';
import { connectOrFail, maskRedisUrl, maskSecrets, redisConnection } from './redis';
import { buildFleetReport, type JobView } from './report';
import type { ResultsFolder } from './results';
import {
  BASELINE_SUMMARY_SCHEMA,
  FLEET_NAME,
  baselineSummarySchema,
  hostSummarySchema,
  jobDataSchema,
  type BaselineSummary,
  type FleetJobData,
  type FleetReport,
  type FleetStatus,
  type HostState,
  type WorkerThroughput,
  type HostSummary,
} from './types';

export const QUEUE_NAME = 'fleet';
export const PREFIX = 'irpscope';

const keys = {
  fleets: `${PREFIX}:fleets`,
  images: (fleet: string, kind: FleetJobData['kind']) =>
    `${PREFIX}:fleets:${fleet}:${kind === 'host' ? 'hosts' : 'baselines'}`,
  analysis: (fleet: string, jobId: string) => `${PREFIX}:fleets:${fleet}:analysis:${jobId}`,
};

const registryEntry = z.object({ jobId: z.string(), label: z.string(), submittedAt: z.string() });

/** A registry entry as written by a submit, or null (absent, or not one a submit writes). */
function parseEntry(raw: string | null): z.infer<typeof registryEntry> | null {
  if (raw === null) return null;
  try {
    return registryEntry.safeParse(JSON.parse(raw)).data ?? null;
  } catch {
    return null;
  }
}

/** Baselines before hosts: a worker takes every waiting baseline before any host. */
const PRIORITY = { baseline: 1, host: 2 } as const;

function checkFleetName(fleet: string): void {
  if (!FLEET_NAME.test(fleet))
    throw new FleetError(
      `--fleet must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit (not ${JSON.stringify(fleet)})`,
    );
}

function queueOn(connection: Redis): Queue {
  const queue = new Queue(QUEUE_NAME, { connection, prefix: PREFIX });
  // Its connection's errors reach the caller through the commands that fail; unheard, BullMQ
  // would print each one with its stack.
  queue.on('error', () => undefined);
  return queue;
}

async function commandConnection(url: string): Promise<Redis> {
  const redis = redisConnection(url, { persistent: false, name: 'irpscope-fleet' });
  await connectOrFail(redis, url);
  return redis;
}

async function closeAll(queue: Queue | null, redis: Redis): Promise<void> {
  await queue?.close().catch(() => undefined);
  await redis.quit().catch(() => redis.disconnect());
}

// ---------------------------------------------------------------------------------------------
// submit

export interface SubmitOptions {
  url: string;
  fleet: string;
  baselines: readonly NamedImage[];
  hosts: readonly NamedImage[];
  /** Tries per job before it fails for good. */
  attempts: number;
  symbols?: string | null;
}

export interface SubmitResult {
  fleet: string;
  redis: string;
  hosts: { added: number; known: number; retried: number };
  baselines: { added: number; known: number; retried: number };
}

function jobOptions(data: FleetJobData, jobId: string, attempts: number): JobsOptions {
  return {
    jobId,
    priority: PRIORITY[data.kind],
    attempts,
    backoff: { type: 'fixed', delay: 2000 },
    removeOnComplete: false,
    removeOnFail: false,
  };
}

/**
 * Enqueues the fleet's jobs. Every image is read (its identity) before Redis is touched, so a
 * missing or unreadable image fails the submit with nothing enqueued. A job already in the queue
 * is left as it is (done, or on its way), except a failed one, which is tried again.
 */
export async function submitFleet(options: SubmitOptions): Promise<SubmitResult> {
  checkFleetName(options.fleet);
  const submittedAt = new Date().toISOString();
  const engine = currentEngine();
  const job = (kind: FleetJobData['kind'], named: NamedImage, baselines: string[]) => {
    const data: FleetJobData = {
      kind,
      fleet: options.fleet,
      image: named.image,
      label: named.label,
      identity: fileIdentity(named.image),
      engine,
      submittedAt,
      symbols: options.symbols ?? null,
      baselines,
    };
    return { data, id: jobIdOf(data) };
  };
  const baselineJobs = options.baselines.map((b) => job('baseline', b, []));
  const baselineIds = baselineJobs.map((b) => b.id);
  const jobs = [...baselineJobs, ...options.hosts.map((h) => job('host', h, baselineIds))];
  const redis = await commandConnection(options.url);
  const queue = queueOn(redis);
  try {
    const result: SubmitResult = {
      fleet: options.fleet,
      redis: maskRedisUrl(options.url),
      hosts: { added: 0, known: 0, retried: 0 },
      baselines: { added: 0, known: 0, retried: 0 },
    };
    const fresh: typeof jobs = [];
    const states = await Promise.all(jobs.map((job) => queue.getJobState(job.id)));
    for (const [index, job] of jobs.entries()) {
      const tally = job.data.kind === 'host' ? result.hosts : result.baselines;
      const state = states[index];
      if (state === 'unknown') {
        fresh.push(job);
        tally.added++;
      } else if (state === 'failed') {
        await (await queue.getJob(job.id))?.retry('failed');
        tally.retried++;
      } else tally.known++;
    }
    const registry = redis.multi().sadd(keys.fleets, options.fleet);
    const registered = await Promise.all(
      jobs.map((job) => redis.hget(keys.images(options.fleet, job.data.kind), job.data.image)),
    );
    for (const [index, job] of jobs.entries()) {
      const same = parseEntry(registered[index] ?? null)?.jobId === job.id;
      // A job already registered keeps its submission time (the report keeps the latest per image).
      if (!same)
        registry.hset(
          keys.images(options.fleet, job.data.kind),
          job.data.image,
          JSON.stringify({ jobId: job.id, label: job.data.label, submittedAt }),
        );
    }
    await registry.exec();
    await queue.addBulk(
      fresh.map((job) => ({
        name: job.data.kind,
        data: job.data,
        opts: jobOptions(job.data, job.id, options.attempts),
      })),
    );
    return result;
  } catch (error) {
    throw new FleetError(
      `cannot submit to Redis at ${maskRedisUrl(options.url)}: ${maskSecrets(oneLine(error), options.url)}`,
    );
  } finally {
    await closeAll(queue, redis);
  }
}

// ---------------------------------------------------------------------------------------------
// the worker

/** The fleet's baselines as Redis has them, for a worker's host jobs. */
class RedisBaselines implements BaselineSource {
  private readonly cache = new Map<string, AnalysisResult>();

  constructor(
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly signal: AbortSignal,
  ) {}

  async settled(host: FleetJobData): Promise<BaselineSummary[] | 'later'> {
    for (;;) {
      const views = await Promise.all(host.baselines.map((id) => this.baselineJob(host.fleet, id)));
      if (views.some((v) => v.state === 'queued')) return 'later';
      if (!views.some((v) => v.state === 'active'))
        return views.map((v) => v.summary ?? failedBaseline(host.fleet, v));
      // Being analysed (by this worker or another): it ends, or its worker dies and it goes back to wait.
      await delay(500, undefined, { signal: this.signal });
    }
  }

  /** A baseline job as the queue has it now. */
  private async baselineJob(fleet: string, id: string): Promise<JobView<BaselineSummary>> {
    const job = (await this.queue.getJob(id)) ?? null;
    const data = jobDataSchema.safeParse(job?.data);
    const view = await jobView(job, baselineSummarySchema, {
      image: data.data?.image ?? id,
      label: data.data?.label ?? id,
      submittedAt: data.data?.submittedAt ?? '',
    });
    if (data.success && data.data.fleet !== fleet)
      return { ...view, state: 'failed', summary: null, error: 'not a baseline of this fleet' };
    return view;
  }

  async analysis(summary: BaselineSummary): Promise<AnalysisResult> {
    const known = this.cache.get(summary.jobId);
    if (known) return known;
    const packed = await this.redis.getBuffer(keys.analysis(summary.fleet, summary.jobId));
    if (!packed) throw new Error(`the analysis of the baseline ${summary.label} is no longer in Redis`);
    const analysis = JSON.parse(gunzipSync(packed).toString('utf8')) as AnalysisResult;
    // A fleet has a baseline or two per build: keep the few in use.
    if (this.cache.size >= 4) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(summary.jobId, analysis);
    return analysis;
  }

  async publish(summary: BaselineSummary, analysis: AnalysisResult): Promise<void> {
    await this.redis.set(keys.analysis(summary.fleet, summary.jobId), gzipSync(JSON.stringify(analysis)));
    this.cache.set(summary.jobId, analysis);
  }
}

function failedBaseline(fleet: string, view: JobView<BaselineSummary>): BaselineSummary {
  return {
    schema: BASELINE_SUMMARY_SCHEMA,
    jobId: '',
    fleet,
    image: view.image,
    label: view.label,
    submittedAt: view.submittedAt,
    state: 'failed',
    error: view.error ?? 'failed',
    system: null,
    findings: 0,
    files: { analysis: null },
    run: { worker: '', startedAt: '', finishedAt: '', engine: '' },
  };
}

export interface FleetWorkerOptions {
  url: string;
  results: ResultsFolder;
  /** Jobs this process runs at once. */
  concurrency: number;
  /** Worker threads per analysis. */
  scanWorkers: number;
  mapPath: (path: string) => string;
  /** How long a dead worker's job waits before another takes it up (BullMQ's lock and stall check). */
  stalledAfterMs: number;
  log: (line: string) => void;
  name?: string;
}

export interface FleetWorker {
  name: string;
  /** Stops taking jobs, lets the ones in hand finish, and disconnects. */
  close(): Promise<void>;
  /** Drops the jobs in hand (another worker takes them up once their lock expires). */
  kill(): Promise<void>;
}

/** Logs a connection's outages once each (with the last error it saw), the URL masked. */
function watchConnection(
  redis: Redis,
  url: string,
  log: (line: string) => void,
  onReady = (): void => {},
): void {
  let down = false;
  let lastError: Error | null = null;
  redis.on('error', (error: Error) => void (lastError = error));
  redis.on('reconnecting', () => {
    if (down) return;
    down = true;
    const reason = lastError ? ` (${maskSecrets(oneLine(lastError), url)})` : '';
    log(`lost Redis at ${maskRedisUrl(url)}${reason}; reconnecting`);
  });
  redis.on('ready', () => {
    if (down) log(`connected to Redis at ${maskRedisUrl(url)} again`);
    down = false;
    lastError = null;
    onReady();
  });
}

export async function startFleetWorker(options: FleetWorkerOptions): Promise<FleetWorker> {
  const name = options.name ?? `${hostname()}:${process.pid}`;
  options.results.check();
  const engine = currentEngine();
  const stop = new AbortController();
  const redis = redisConnection(options.url, { persistent: true, name: `irpscope-worker ${name}` });
  const workerConnection = redisConnection(options.url, {
    persistent: true,
    name: `irpscope-worker ${name}`,
  });
  // The worker's own errors while Redis is away repeat every retry: each is said once per outage.
  const said = new Set<string>();
  const sayOnce = (line: string): void => {
    if (said.has(line)) return;
    said.add(line);
    options.log(line);
  };
  watchConnection(redis, options.url, options.log, () => said.clear());
  watchConnection(
    workerConnection,
    options.url,
    () => undefined,
    () => said.clear(),
  );
  await Promise.all([redis.connect(), workerConnection.connect()]).catch(() => undefined);
  const queue = queueOn(redis);
  const context: JobContext = {
    results: options.results,
    baselines: new RedisBaselines(redis, queue, stop.signal),
    mapPath: options.mapPath,
    worker: name,
    scanWorkers: options.scanWorkers,
    signal: stop.signal,
  };

  const processJob = async (job: Job, token?: string): Promise<HostSummary | BaselineSummary> => {
    const parsed = jobDataSchema.safeParse(job.data);
    if (!parsed.success) throw new Error('the job does not hold what an IRPscope fleet job holds');
    const data = parsed.data;
    const startedAt = new Date();
    options.log(`${data.fleet}: started ${data.kind} ${data.label}`);
    try {
      const outcome = await runFleetJob(data, job.id!, context, engine);
      if (outcome.kind === 'later') {
        options.log(`${data.fleet}: ${data.label} waits for a baseline to be analysed`);
        await job.moveToDelayed(Date.now() + 2000, token);
        throw new DelayedError();
      }
      const s = outcome.summary;
      options.log(
        `${data.fleet}: done ${data.kind} ${data.label}` +
          ('comparison' in s && s.comparison ? `: ${s.comparison.differences} differences` : ''),
      );
      return s;
    } catch (error) {
      if (error instanceof DelayedError) throw error;
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const reason = oneLine(error);
      options.log(`${data.fleet}: ${last ? 'failed' : 'will retry'} ${data.kind} ${data.label}: ${reason}`);
      if (last) recordFailure(data, job.id!, error, context, engine, startedAt);
      throw new Error(reason, { cause: error });
    }
  };

  const worker = new Worker(QUEUE_NAME, processJob, {
    connection: workerConnection,
    prefix: PREFIX,
    name,
    concurrency: options.concurrency,
    lockDuration: options.stalledAfterMs,
    stalledInterval: options.stalledAfterMs,
    maxStalledCount: 2,
    // Redis restarting is not a reason to stop: keep asking.
    runRetryDelay: 1000,
  });
  worker.on('error', (error) => sayOnce(`worker error: ${maskSecrets(oneLine(error), options.url)}`));

  const disconnect = async (): Promise<void> => {
    stop.abort();
    await queue.close().catch(() => undefined);
    for (const connection of [redis, workerConnection])
      await connection.quit().catch(() => connection.disconnect());
  };
  return {
    name,
    async close() {
      await worker.close();
      await disconnect();
    },
    async kill() {
      await worker.close(true);
      await disconnect();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// reading a fleet back

function stateOf(state: string): HostState | 'gone' {
  switch (state) {
    case 'completed':
      return 'done';
    case 'failed':
      return 'failed';
    case 'active':
      return 'active';
    case 'unknown':
      return 'gone';
    default:
      return 'queued';
  }
}

/** A job as the report shows it: its state, and its summary once done (checked against its schema). */
async function jobView<S extends HostSummary | BaselineSummary>(
  job: Job | null,
  schema: z.ZodType<S>,
  named: { image: string; label: string; submittedAt: string },
): Promise<JobView<S> & { job: Job | null }> {
  const state = job ? stateOf(await job.getState()) : 'gone';
  const view: JobView<S> & { job: Job | null } = {
    ...named,
    state: state === 'gone' ? 'failed' : state,
    summary: null,
    error: state === 'gone' ? 'its job is no longer in Redis (removed, or Redis lost its data)' : null,
    job,
  };
  if (job && state === 'done') {
    const summary = schema.safeParse(job.returnvalue);
    if (summary.success) view.summary = summary.data;
    else {
      view.state = 'failed';
      view.error = 'its summary in Redis is not one an IRPscope worker writes';
    }
  }
  if (job && state === 'failed') view.error = oneLine(job.failedReason || 'failed');
  return view;
}

async function readJobs<S extends HostSummary | BaselineSummary>(
  redis: Redis,
  queue: Queue,
  fleet: string,
  kind: FleetJobData['kind'],
  schema: z.ZodType<S>,
): Promise<Array<JobView<S> & { job: Job | null }>> {
  const entries = await redis.hgetall(keys.images(fleet, kind));
  const views = await Promise.all(
    Object.entries(entries).map(async ([image, raw]) => {
      const entry = parseEntry(raw);
      if (!entry) return null;
      const job = (await queue.getJob(entry.jobId)) ?? null;
      return jobView(job, schema, { image, label: entry.label, submittedAt: entry.submittedAt });
    }),
  );
  return views.filter((v) => v !== null);
}

export interface FleetJobs {
  hosts: Array<JobView<HostSummary> & { job: Job | null }>;
  baselines: Array<JobView<BaselineSummary> & { job: Job | null }>;
  /** Worker processes connected to the queue now. */
  workers: string[];
}

async function readFleet(redis: Redis, queue: Queue, url: string, fleet: string): Promise<FleetJobs> {
  checkFleetName(fleet);
  const [hosts, baselines] = await Promise.all([
    readJobs(redis, queue, fleet, 'host', hostSummarySchema),
    readJobs(redis, queue, fleet, 'baseline', baselineSummarySchema),
  ]);
  if (hosts.length === 0 && baselines.length === 0) {
    const known = (await redis.smembers(keys.fleets)).sort();
    throw new FleetError(
      `no fleet ${JSON.stringify(fleet)} in Redis at ${maskRedisUrl(url)}` +
        (known.length ? ` (fleets there: ${known.join(', ')})` : ' (it holds no fleet)'),
    );
  }
  const workers = (await queue.getWorkers()).map((w) => String(w.rawname ?? w.name ?? '')).filter(Boolean);
  return { hosts, baselines, workers };
}

/** Connects, reads what `use` needs, disconnects. */
async function withFleet<T>(url: string, fleet: string, use: (jobs: FleetJobs) => T): Promise<T> {
  const redis = await commandConnection(url);
  const queue = queueOn(redis);
  try {
    return use(await readFleet(redis, queue, url, fleet));
  } catch (error) {
    if (error instanceof FleetError) throw error;
    throw new FleetError(
      `cannot read the fleet from Redis at ${maskRedisUrl(url)}: ${maskSecrets(oneLine(error), url)}`,
    );
  } finally {
    await closeAll(queue, redis);
  }
}

export function fleetReportFromRedis(url: string, fleet: string): Promise<FleetReport> {
  return withFleet(url, fleet, (jobs) => buildFleetReport(fleet, jobs.baselines, jobs.hosts));
}

// ---------------------------------------------------------------------------------------------
// status

/** Jobs per minute of each worker, from when it started its first job to when it ended its last. */
export function throughputOf(
  runs: ReadonlyArray<{ worker: string; startedAt: string; finishedAt: string }>,
): WorkerThroughput[] {
  const byWorker = new Map<string, { jobs: number; first: number; last: number; busy: number }>();
  for (const run of runs) {
    const start = Date.parse(run.startedAt);
    const end = Date.parse(run.finishedAt);
    if (!run.worker || Number.isNaN(start) || Number.isNaN(end)) continue;
    const w = byWorker.get(run.worker) ?? { jobs: 0, first: start, last: end, busy: 0 };
    w.jobs++;
    w.first = Math.min(w.first, start);
    w.last = Math.max(w.last, end);
    w.busy += end - start;
    byWorker.set(run.worker, w);
  }
  return [...byWorker]
    .map(([worker, w]) => ({
      worker,
      jobs: w.jobs,
      imagesPerMinute: (w.jobs * 60_000) / Math.max(1, w.last - w.first, w.busy / w.jobs),
      lastFinishedAt: new Date(w.last).toISOString(),
    }))
    .sort((a, b) => (a.worker < b.worker ? -1 : 1));
}

/** The remaining jobs at the rate of the workers that finished one in the last ten minutes. */
export function etaOf(
  remaining: number,
  throughput: readonly WorkerThroughput[],
  now: number,
): number | null {
  if (remaining === 0) return null;
  const recent = throughput.filter((t) => now - Date.parse(t.lastFinishedAt) < 10 * 60_000);
  const rate = recent.reduce((sum, t) => sum + t.imagesPerMinute, 0);
  return rate > 0 ? Math.round((remaining / rate) * 60) : null;
}

function statusOf(fleet: string, url: string, jobs: FleetJobs): FleetStatus {
  const all = [...jobs.baselines, ...jobs.hosts];
  const count = (state: HostState) => all.filter((j) => j.state === state).length;
  const throughput = throughputOf(all.flatMap((j) => (j.summary ? [j.summary.run] : [])));
  const counts = {
    total: all.length,
    queued: count('queued'),
    active: count('active'),
    done: count('done'),
    failed: count('failed'),
  };
  return {
    fleet,
    redis: maskRedisUrl(url),
    counts,
    active: all
      .filter((j) => j.state === 'active')
      .map((j) => j.label)
      .sort(),
    throughput,
    connectedWorkers: jobs.workers.length,
    etaSeconds: etaOf(counts.queued + counts.active, throughput, Date.now()),
  };
}

export function fleetStatus(url: string, fleet: string): Promise<FleetStatus> {
  return withFleet(url, fleet, (jobs) => statusOf(fleet, url, jobs));
}

/** The fleets in Redis, and one of them (the one named, else the first) with its report and status. */
export async function readFleetFromRedis(
  url: string,
  fleet: string | undefined,
): Promise<{
  fleets: string[];
  fleet: string | null;
  report: FleetReport | null;
  status: FleetStatus | null;
}> {
  const redis = await commandConnection(url);
  const queue = queueOn(redis);
  try {
    const fleets = (await redis.smembers(keys.fleets)).sort();
    const name = fleet ?? fleets[0];
    if (name === undefined) return { fleets, fleet: null, report: null, status: null };
    const jobs = await readFleet(redis, queue, url, name);
    return {
      fleets,
      fleet: name,
      report: buildFleetReport(name, jobs.baselines, jobs.hosts),
      status: statusOf(name, url, jobs),
    };
  } catch (error) {
    if (error instanceof FleetError) throw error;
    throw new FleetError(
      `cannot read the fleet from Redis at ${maskRedisUrl(url)}: ${maskSecrets(oneLine(error), url)}`,
    );
  } finally {
    await closeAll(queue, redis);
  }
}
