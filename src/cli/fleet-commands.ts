// `irpscope worker` and `irpscope fleet submit|status|report|run`: many memory images against
// golden baselines, on BullMQ workers across machines or on this one (src/fleet). Redis URLs are
// only ever shown with their password masked.

import { InvalidArgumentError, type Command } from 'commander';
import { parsePathMap } from '../fleet/path-map';
import type * as FleetActionsModule from './fleet-actions';

// Each command's work is loaded when it runs: BullMQ, Redis and the engine stay unloaded otherwise.
const actions = () => import('./fleet-actions');

type FleetActions = typeof FleetActionsModule;

/** A command's action: its code is loaded when it runs. */
function run<K extends keyof FleetActions>(name: K) {
  return async (...args: Parameters<FleetActions[K]>): Promise<void> => {
    const command = (await actions())[name] as (...given: Parameters<FleetActions[K]>) => Promise<void>;
    await command(...args);
  };
}

const DEFAULT_RESULTS = 'irpscope-results';

function positiveInteger(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number from 1');
  return n;
}

function collect<T>(parse: (text: string) => T) {
  return (text: string, previous: T[] = []): T[] => [...previous, parse(text)];
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
    .action(run('workerCommand'));
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
    .action(run('submitCommand'));
}

function registerStatus(fleet: Command): void {
  fleet
    .command('status')
    .description('queued, active, done and failed jobs of a fleet, throughput per worker and an ETA')
    .requiredOption('--redis <url>', 'redis://[user:password@]host[:port][/db], or rediss:// for TLS')
    .requiredOption('--fleet <name>', 'the fleet')
    .option('--json', 'print the status as JSON')
    .option('--watch', 'show it again every 2 seconds until no job is queued or active')
    .action(run('statusCommand'));
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
  ).action(run('fleetReportCommand'));
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
  ).action(run('fleetRunCommand'));
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
