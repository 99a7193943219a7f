// `irpscope worker` and `irpscope fleet submit|status|report|run`: many memory images against
// golden baselines, on BullMQ workers across machines or on this one (src/fleet). Redis URLs are
// only ever shown with their password masked.

import { availableParallelism, hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { InvalidArgumentError, type Command } from 'commander';
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
  parsePathMap,
  pathMapper,
  runFleetInProcess,
  type FleetReport,
  type FleetRunProgress,
  type PathMapping,
} from '../fleet/index';
import { progressBar, renderFleetReport, renderFleetStatus, renderSubmit } from './render-fleet';
import { terminalJson, terminalText } from './terminal-text';

const EXIT_ERROR = 2;
const DEFAULT_RESULTS = 'irpscope-results';

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

function positiveInteger(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number from 1');
  return n;
}

function collect<T>(parse: (text: string) => T) {
  return (text: string, previous: T[] = []): T[] => [...previous, parse(text)];
}

type ReportFormatFlags = { json?: boolean; html?: boolean; csv?: boolean; out?: string };

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

function addReportFlags(command: Command): Command {
  return command
    .option('--json', 'print the report as JSON (schema irpscope-fleet-report/1)')
    .option('--html', 'write the report as one self-contained HTML page')
    .option('--csv', 'write the report as CSV tables in a .zip (default irpscope-fleet-<fleet>.zip)')
    .option('--out <file>', 'where the report goes (default: standard output; - for standard output)');
}

function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'take fleet jobs from Redis: analyse each host, compare it with the baseline of its build, write the results; SIGTERM finishes the jobs in hand and exits',
    )
    .requiredOption('--redis <url>', 'redis://[user:password@]host[:port][/db], or rediss:// for TLS')
    .option('--concurrency <n>', 'jobs this process runs at once', positiveInteger, 1)
    .option('--results <dir>', 'where the full analyses and comparisons are written', DEFAULT_RESULTS)
    .option(
      '--path-map <from=to>',
      'where this machine sees the submitted paths (repeatable), e.g. /mnt/evidence=/srv/evidence',
      collect(parsePathMap),
    )
    .option(
      '--stalled-after <seconds>',
      'how long a job whose worker died waits before another worker takes it up',
      positiveInteger,
      30,
    )
    .option('--name <name>', 'how this worker is named in the status (default: host:pid)')
    .action(
      async (options: {
        redis: string;
        concurrency: number;
        results: string;
        pathMap?: PathMapping[];
        stalledAfter: number;
        name?: string;
      }) => {
        try {
          const { startFleetWorker } = await import('../fleet/bullmq');
          const { maskRedisUrl } = await import('../fleet/redis');
          const log = (line: string): void =>
            void process.stderr.write(terminalText(`irpscope worker: ${line}\n`));
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
      },
    );
}

function registerSubmit(fleet: Command): void {
  fleet
    .command('submit')
    .description(
      'enqueue one job per image (a folder: every memory image in it); an image already done is not redone',
    )
    .requiredOption('--redis <url>', 'redis://[user:password@]host[:port][/db], or rediss:// for TLS')
    .requiredOption('--fleet <name>', 'the fleet: the name status and report use')
    .option('--baseline <image>', 'a golden image of one Windows build (repeatable)', collect(String))
    .option('--attempts <n>', 'tries per job before it fails for good', positiveInteger, 2)
    .option('--symbols <dir>', 'Volatility 3 symbol directory, as the workers see it')
    .argument('<images...>', 'memory images and folders of them')
    .action(
      async (
        images: string[],
        options: { redis: string; fleet: string; baseline?: string[]; attempts: number; symbols?: string },
      ) => {
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
      },
    );
}

function registerStatus(fleet: Command): void {
  fleet
    .command('status')
    .description('queued, active, done and failed jobs of a fleet, throughput per worker and an ETA')
    .requiredOption('--redis <url>', 'redis://[user:password@]host[:port][/db], or rediss:// for TLS')
    .requiredOption('--fleet <name>', 'the fleet')
    .option('--json', 'print the status as JSON')
    .option('--watch', 'show it again every 2 seconds until no job is queued or active')
    .action(async (options: { redis: string; fleet: string; json?: boolean; watch?: boolean }) => {
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
    });
}

function registerReport(fleet: Command): void {
  addReportFlags(
    fleet
      .command('report')
      .description(
        'per host: build, baseline, differences by severity, findings, error; and the clusters of hosts that share evidence. Exit 0: every host matches its baseline, 1: differences (or not done yet), 2: errors',
      )
      .requiredOption('--fleet <name>', 'the fleet')
      .option('--redis <url>', 'read the fleet from Redis')
      .option(
        '--results <dir>',
        'read the fleet from a results folder instead (only finished jobs are there)',
      ),
  ).action(async (options: ReportFormatFlags & { fleet: string; redis?: string; results?: string }) => {
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
  });
}

function registerRun(fleet: Command): void {
  addReportFlags(
    fleet
      .command('run')
      .description(
        'the fleet on this machine, without Redis: the same jobs on an in-process queue, and the same report (exit codes as report)',
      )
      .option('--fleet <name>', 'the fleet (its folder under --results)', 'local')
      .option('--baseline <image>', 'a golden image of one Windows build (repeatable)', collect(String))
      .option('--results <dir>', 'where the full analyses and comparisons are written', DEFAULT_RESULTS)
      .option('--concurrency <n>', 'jobs at once (default: the number of cores)', positiveInteger)
      .option('--attempts <n>', 'tries per job before it fails for good', positiveInteger, 2)
      .option('--symbols <dir>', 'Volatility 3 symbol directory (ISF files)')
      .argument('<images...>', 'memory images and folders of them'),
  ).action(
    async (
      images: string[],
      options: ReportFormatFlags & {
        fleet: string;
        baseline?: string[];
        results: string;
        concurrency?: number;
        attempts: number;
        symbols?: string;
      },
    ) => {
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
    },
  );
}

export function registerFleetCommands(program: Command): void {
  registerWorker(program);
  const fleet = program
    .command('fleet')
    .description(
      'many memory images against golden baselines: submit, status, report (BullMQ on Redis), or run here',
    );
  registerSubmit(fleet);
  registerStatus(fleet);
  registerReport(fleet);
  registerRun(fleet);
}
