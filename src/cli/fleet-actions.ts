// What `irpscope worker` and `irpscope fleet …` do (src/cli/fleet-commands.ts): loaded when one of
// them runs, so that other commands do not load BullMQ, Redis or the engine.

import { availableParallelism, hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { InvalidArgumentError } from 'commander';
import { ImageError } from '../core/image';
import { OutputError, checkOutputPath, writeFileAtomic } from '../core/node/util/atomic-file';
import {
  FleetError,
  ResultsFolder,
  checkBaselines,
  collectImages,
  fleetCsvZip,
  fleetReportFromResults,
  fleetReportHtml,
  pathMapper,
  runFleetInProcess,
  type FleetReport,
  type FleetRunProgress,
  type PathMapping,
} from '../fleet/index';
import { progressBar, renderFleetReport, renderFleetStatus, renderSubmit } from './render-fleet';
import { terminalJson, terminalText } from './terminal-text';

const EXIT_ERROR = 2;

function failFleet(error: unknown): never {
  if (
    error instanceof FleetError ||
    error instanceof ImageError ||
    error instanceof OutputError ||
    error instanceof InvalidArgumentError
  ) {
    process.stderr.write(terminalText(`irpscope: ${error.message}\n`));
    process.exit(EXIT_ERROR);
  }
  process.stderr.write(terminalText(`irpscope: internal error: ${(error as Error).stack ?? error}\n`));
  process.exit(EXIT_ERROR);
}

export type ReportFormatFlags = { json?: boolean; html?: boolean; csv?: boolean; out?: string };

function formatOf(options: ReportFormatFlags): 'text' | 'json' | 'html' | 'csv' {
  const given = (['json', 'html', 'csv'] as const).filter((f) => options[f]);
  if (given.length > 1) throw new FleetError('give one of --json, --html and --csv');
  return given[0] ?? 'text';
}

/** Where a report goes: stdout, or a file checked before any work is done. */
function reportTarget(options: ReportFormatFlags, fleet: string): string | null {
  const format = formatOf(options);
  const out = options.out ?? (format === 'csv' ? `irpscope-fleet-${fleet}.zip` : null);
  if (out !== null && out !== '-') checkOutputPath(out);
  return out === '-' ? null : out;
}

function writeReport(report: FleetReport, options: ReportFormatFlags, out: string | null): void {
  const format = formatOf(options);
  const bytes: string | Uint8Array =
    format === 'csv'
      ? fleetCsvZip(report, new Date().toISOString())
      : format === 'html'
        ? fleetReportHtml(report)
        : format === 'json'
          ? out === null
            ? terminalJson(report)
            : `${JSON.stringify(report, null, 2)}\n`
          : renderFleetReport(report);
  if (out === null) process.stdout.write(bytes);
  else {
    writeFileAtomic(out, bytes);
    process.stderr.write(terminalText(`irpscope: wrote ${out}\n`));
  }
}

/** The progress of `fleet run` on stderr: a bar on a terminal, one line per finished job otherwise. */
function runProgress(): (progress: FleetRunProgress) => void {
  let finished = 0;
  return (p) => {
    const done = p.done + p.failed;
    if (process.stderr.isTTY) {
      const active = p.active.length
        ? `  ${p.active.slice(0, 2).join(', ')}${p.active.length > 2 ? ', …' : ''}`
        : '';
      process.stderr.write(
        terminalText(`\r\x1b[K${progressBar(done, p.total)} ${done}/${p.total}${active}`.slice(0, 160)),
      );
      if (done === p.total) process.stderr.write('\r\x1b[K');
    } else if (done !== finished) {
      process.stderr.write(`irpscope: ${done}/${p.total} jobs finished\n`);
    }
    finished = done;
  };
}

export async function workerCommand(options: {
  redis: string;
  concurrency: number;
  results: string;
  pathMap?: PathMapping[];
  stalledAfter: number;
  name?: string;
}): Promise<void> {
  try {
    const { startFleetWorker } = await import('../fleet/bullmq');
    const { maskRedisUrl } = await import('../fleet/redis');
    const log = (line: string): void => void process.stderr.write(terminalText(`irpscope worker: ${line}\n`));
    const worker = await startFleetWorker({
      url: options.redis,
      results: new ResultsFolder(options.results),
      concurrency: options.concurrency,
      scanWorkers: Math.max(1, Math.floor(availableParallelism() / options.concurrency)),
      mapPath: pathMapper(options.pathMap ?? []),
      stalledAfterMs: options.stalledAfter * 1000,
      log,
      name: options.name ?? `${hostname()}:${process.pid}`,
    });
    log(
      `${worker.name} takes jobs from ${maskRedisUrl(options.redis)}, ${options.concurrency} at a time; results in ${new ResultsFolder(options.results).root}`,
    );
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log(`${signal} again: exiting now; the jobs in hand go back to the queue`);
        process.exit(1);
      }
      stopping = true;
      log(`${signal}: finishing the jobs in hand, then exiting`);
      void worker.close().then(() => {
        log('stopped');
        process.exit(0);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  } catch (error) {
    failFleet(error);
  }
}

export async function submitCommand(
  images: string[],
  options: { redis: string; fleet: string; baseline?: string[]; attempts: number; symbols?: string },
): Promise<void> {
  try {
    const { submitFleet } = await import('../fleet/bullmq');
    const baselines = checkBaselines(options.baseline ?? []);
    const hosts = collectImages(
      images,
      baselines.map((b) => b.image),
    );
    if (hosts.length === 0) throw new FleetError('no host image to submit (only baselines were named)');
    const result = await submitFleet({
      url: options.redis,
      fleet: options.fleet,
      baselines,
      hosts,
      attempts: options.attempts,
      symbols: options.symbols ?? null,
    });
    process.stdout.write(renderSubmit(result));
  } catch (error) {
    failFleet(error);
  }
}

export async function statusCommand(options: {
  redis: string;
  fleet: string;
  json?: boolean;
  watch?: boolean;
}): Promise<void> {
  try {
    const { fleetStatus } = await import('../fleet/bullmq');
    const terminal = process.stdout.isTTY === true;
    let lines = 0;
    for (;;) {
      const status = await fleetStatus(options.redis, options.fleet);
      const text = options.json ? terminalJson(status) : renderFleetStatus(status, terminal);
      // On a terminal the status is drawn over the previous one.
      if (terminal && options.watch && lines > 0) process.stdout.write(`\x1b[${lines}A\x1b[J`);
      process.stdout.write(text);
      lines = text.split('\n').length - 1;
      if (!options.watch || status.counts.queued + status.counts.active === 0) break;
      await delay(2000);
    }
  } catch (error) {
    failFleet(error);
  }
}

export async function fleetReportCommand(
  options: ReportFormatFlags & { fleet: string; redis?: string; results?: string },
): Promise<void> {
  try {
    if ((options.redis === undefined) === (options.results === undefined))
      throw new FleetError('give --redis URL or --results DIR');
    const out = reportTarget(options, options.fleet);
    let report: FleetReport;
    if (options.redis !== undefined) {
      const { fleetReportFromRedis } = await import('../fleet/bullmq');
      report = await fleetReportFromRedis(options.redis, options.fleet);
    } else {
      const read = fleetReportFromResults(new ResultsFolder(options.results!), options.fleet);
      for (const skipped of read.skipped)
        process.stderr.write(terminalText(`irpscope: skipped ${skipped}\n`));
      report = read.report;
    }
    writeReport(report, options, out);
    process.exitCode = report.exitCode;
  } catch (error) {
    failFleet(error);
  }
}

export async function fleetRunCommand(
  images: string[],
  options: ReportFormatFlags & {
    fleet: string;
    baseline?: string[];
    results: string;
    concurrency?: number;
    attempts: number;
    symbols?: string;
  },
): Promise<void> {
  try {
    const out = reportTarget(options, options.fleet);
    const results = new ResultsFolder(options.results);
    const baselines = checkBaselines(options.baseline ?? []);
    const hosts = collectImages(
      images,
      baselines.map((b) => b.image),
    );
    if (hosts.length === 0) throw new FleetError('no host image to analyse (only baselines were named)');
    results.fleetFolder(options.fleet);
    results.check();
    const concurrency = options.concurrency ?? availableParallelism();
    const report = await runFleetInProcess({
      fleet: options.fleet,
      baselines,
      hosts,
      results,
      concurrency,
      // The cores shared out as a worker shares them between its jobs.
      scanWorkers: Math.max(1, Math.floor(availableParallelism() / concurrency)),
      attempts: options.attempts,
      symbols: options.symbols ?? null,
      worker: `${hostname()}:${process.pid}`,
      onProgress: runProgress(),
    });
    writeReport(report, options, out);
    process.exitCode = report.exitCode;
  } catch (error) {
    failFleet(error);
  }
}
