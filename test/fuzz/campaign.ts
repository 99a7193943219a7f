// The fuzz campaign (`npm run fuzz -- --minutes N | --inputs N [--seed S] [--workers W]`):
// workers make and run inputs in batches; this thread hands out batches, watches each worker's
// current input (a worker on one input longer than --timeout is a hang: it is ended and
// replaced), gathers the figures and writes every crash, with its minimized input, to
// .cache/fuzz/crashes. `--replay FILE` runs one saved input again and prints its outcome.
// Input N of a seed is always the same input, so a campaign keeps its state (figures so far and
// the ranges of inputs done) in .cache/fuzz/campaign-<seed>.state.json every half minute, and
// `--resume` carries a killed or stopped campaign on where it was: a million inputs may take
// several sittings. `--plan FROM-TO` counts a range's inputs per format and entry point without
// running them. `--target T[,T…]` runs named targets only: image entry points, or the targets
// fed seeds of their own (pe-headers, qmp-replies, case-files; see seeds.ts), sharing the inputs
// equally.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { layouts, prepareCorpus, FORMATS } from './corpus';
import { closeBases, loadBases, needs, savedInput } from './load';
import {
  drawPlan,
  IMAGE_TARGETS,
  isBytesTarget,
  makeInput,
  TARGETS,
  type Bases,
  type Target,
} from './mutate';
import { BYTES_TARGETS } from './seeds';
import { addRange, nextRange } from './ranges';
import { runInput, type RunContext } from './targets';
import {
  serialise,
  type BatchStats,
  type FromWorker,
  type SerialInput,
  type Slowest,
  type ToWorker,
  type WorkerConfig,
} from './worker';

const BATCH = 100;

interface Totals {
  inputs: number;
  counts: Map<string, number>;
  messages: Map<string, number>;
  ms: Map<string, number>;
  slowest: BatchStats['slowest'];
  slowestByTarget: Record<string, Slowest>;
  crashes: BatchStats['crashes'];
  hangs: Array<{ index: number; target?: Target; seconds: number; input: SerialInput | null }>;
  peakRss: number;
}

function parse() {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' },
      inputs: { type: 'string' },
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
      workers: { type: 'string', default: String(availableParallelism()) },
      timeout: { type: 'string', default: '30' },
      root: { type: 'string', default: process.cwd() },
      replay: { type: 'string' },
      target: { type: 'string' },
      cli: { type: 'string' },
      summary: { type: 'string' },
      resume: { type: 'boolean', default: false },
      plan: { type: 'string' },
    },
  });
  return values;
}

function mib(bytes: number): string {
  return `${Math.round(bytes / (1 << 20))} MiB`;
}

async function replay(path: string, root: string, context: RunContext): Promise<void> {
  const saved = JSON.parse(readFileSync(path, 'utf8')) as { minimized?: SerialInput } & Partial<SerialInput>;
  const input = saved.minimized ?? (saved as SerialInput);
  const bases: Bases = {
    list: isBytesTarget(input.target)
      ? []
      : prepareCorpus(root, join(root, '.cache/fuzz'), layouts(root).available, [input.base]),
    sites: new Map(),
    seeds: { 'pe-headers': [], 'qmp-replies': [], 'case-files': [] },
  };
  const outcome = await runInput(
    bases.list.find((b) => b.key === input.base),
    savedInput(input, bases),
    context,
  );
  closeBases(bases);
  process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
  process.exitCode = outcome.status === 'crash' ? 1 : 0;
}

const count = (
  totals: Pick<Totals, 'counts'>,
  base: string | null,
  target: string | null,
  status: string | null,
) => {
  let n = 0;
  for (const [key, value] of totals.counts) {
    const [b, t, s] = key.split('/');
    if (
      (base === null || b!.endsWith(`-${base}`) || b === base) &&
      (target === null || t === target) &&
      (status === null || s === status)
    )
      n += value;
  }
  return n;
};

const figure = (n: number, width: number) => n.toLocaleString('en').padStart(width);

/** Per format, the inputs of each image target and how they ended (the image targets only). */
function formatTable(totals: Totals): string[] {
  const lines = [
    `format        ${IMAGE_TARGETS.map((t) => t.padStart(9)).join('')}    results  image errors  crashes`,
  ];
  for (const format of FORMATS) {
    const cells = IMAGE_TARGETS.map((t) => figure(count(totals, format, t, null), 9)).join('');
    lines.push(
      `${format.padEnd(14)}${cells} ${figure(count(totals, format, null, 'result'), 10)} ${figure(count(totals, format, null, 'image-error'), 13)} ${figure(count(totals, format, null, 'crash'), 8)}`,
    );
  }
  return lines;
}

/** Per target that ran: inputs, how they ended, the time they took and the slowest. */
function targetTable(totals: Totals): string[] {
  const lines = [
    'target          inputs    results    refused  crashes  hangs   total time  mean ms  slowest',
  ];
  for (const target of TARGETS) {
    const inputs = count(totals, null, target, null);
    const hangs = totals.hangs.filter((h) => h.target === target).length;
    if (inputs === 0 && hangs === 0) continue;
    const ms = totals.ms.get(target) ?? 0;
    const slowest = totals.slowestByTarget[target];
    const refused = count(totals, null, target, 'image-error') + count(totals, null, target, 'refused');
    lines.push(
      `${target.padEnd(12)}${figure(inputs, 10)} ${figure(count(totals, null, target, 'result'), 10)} ${figure(refused, 10)} ${figure(count(totals, null, target, 'crash'), 8)} ${figure(hangs, 6)} ${`${(ms / 60_000).toFixed(1)} min`.padStart(12)} ${(ms / Math.max(1, inputs)).toFixed(2).padStart(8)}  ${slowest ? `${Math.round(slowest.ms).toLocaleString('en')} ms (#${slowest.index})` : '-'}`,
    );
  }
  return lines;
}

function summarise(
  totals: Totals,
  seconds: number,
  workers: number,
  seed: string,
  skipped: string[],
  sittings = 1,
): string {
  const lines: string[] = [];
  lines.push(
    `fuzz campaign: seed ${seed}, ${totals.inputs.toLocaleString('en')} inputs in ${(seconds / 60).toFixed(1)} min on ${workers} workers${sittings > 1 ? ` in ${sittings} sittings` : ''} (${Math.round(totals.inputs / seconds)}/s)`,
  );
  for (const note of skipped) lines.push(`skipped ${note}`);
  const imageInputs = IMAGE_TARGETS.reduce((n, t) => n + count(totals, null, t, null), 0);
  if (imageInputs > 0) {
    lines.push('', ...formatTable(totals));
    lines.push(
      `mean time per input: ${IMAGE_TARGETS.map((t) => `${t} ${(((totals.ms.get(t) ?? 0) / Math.max(1, count(totals, null, t, null))) | 0).toLocaleString('en')} ms`).join(', ')}`,
    );
  }
  lines.push('', ...targetTable(totals));
  lines.push('');
  lines.push(
    `crashes: ${totals.crashes.length}   hangs (> timeout): ${totals.hangs.length}   peak RSS: ${mib(totals.peakRss)} (all workers, one process)`,
  );
  if (totals.slowest)
    lines.push(
      `slowest input: ${Math.round(totals.slowest.ms)} ms, #${totals.slowest.index} ${totals.slowest.base} ${totals.slowest.target}: ${totals.slowest.description}`,
    );
  for (const target of TARGETS) {
    const slowest = totals.slowestByTarget[target];
    if (slowest && isBytesTarget(target))
      lines.push(
        `slowest ${target}: ${Math.round(slowest.ms)} ms, #${slowest.index}: ${slowest.description}`,
      );
  }
  const messages = [...totals.messages].sort((a, b) => b[1] - a[1]);
  const imageErrors = messages
    .filter(([m]) => !BYTES_TARGETS.some((t) => m.startsWith(`${t}: `)))
    .slice(0, 8);
  if (imageErrors.length) {
    lines.push('most frequent errors:');
    for (const [message, n] of imageErrors) lines.push(`  ${figure(n, 9)}  ${message}`);
  }
  for (const target of BYTES_TARGETS) {
    const refusals = messages.filter(([m]) => m.startsWith(`${target}: `)).slice(0, 5);
    if (refusals.length === 0) continue;
    lines.push(`most frequent refusals, ${target}:`);
    for (const [message, n] of refusals) lines.push(`  ${figure(n, 9)}  ${message.slice(target.length + 2)}`);
  }
  for (const crash of totals.crashes)
    lines.push(
      `CRASH #${crash.input.index} ${crash.input.base} ${crash.input.target}: ${crash.outcome.message}`,
    );
  for (const hang of totals.hangs)
    lines.push(
      `HANG #${hang.index} ${hang.target ?? ''} (${hang.seconds} s): ${hang.input?.description ?? ''}`,
    );
  return lines.join('\n');
}

interface SavedState {
  seed: string;
  inputLimit: number | null;
  seconds: number;
  sittings: number;
  done: Array<[number, number]>;
  totals: Omit<Totals, 'counts' | 'messages' | 'ms'> & {
    counts: Record<string, number>;
    messages: Record<string, number>;
    ms: Record<string, number>;
  };
}

function saveState(path: string, state: SavedState): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(state));
  renameSync(temporary, path);
}

/** `--target`, checked: targets named once each, or undefined (the weighted image mix). */
function targetsOf(value: string | undefined): Target[] | undefined {
  if (value === undefined) return undefined;
  const named = value.split(',').map((t) => t.trim());
  for (const target of named)
    if (!TARGETS.includes(target as Target))
      throw new Error(
        `--target takes one or more (comma-separated) of ${TARGETS.join(', ')}; not ${JSON.stringify(target)}`,
      );
  if (new Set(named).size !== named.length) throw new Error('--target names a target twice');
  return named as Target[];
}

/**
 * `--plan FROM-TO`: how many of inputs FROM..TO-1 of a seed go to each format and entry point
 * (and to each target fed seeds of its own), drawn exactly as the campaign draws them but without
 * building or running anything. It answers for a range whose figures were lost, and shows a
 * campaign's mix before it starts.
 */
function plan(root: string, seed: string, range: string, only?: Target[]): void {
  const match = /^(\d+)-(\d+)$/.exec(range);
  if (!match || Number(match[1]) >= Number(match[2]))
    throw new Error('--plan FROM-TO, e.g. --plan 0-1000000');
  const [from, to] = [Number(match[1]), Number(match[2])];
  const keys = layouts(root).available.flatMap((layout) => FORMATS.map((format) => ({ layout, format })));
  const counts = new Map<string, number>();
  for (let index = from; index < to; index++) {
    const { base, target } = drawPlan(seed, index, keys, only);
    const key = isBytesTarget(target) ? target : `${base!.format}/${target}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const lines = [
    `fuzz plan: seed ${seed}, inputs ${from.toLocaleString('en')}-${(to - 1).toLocaleString('en')} (${(to - from).toLocaleString('en')})${needs(only).images ? ` on ${keys.length} base images` : ''}`,
  ];
  if (needs(only).images) {
    lines.push('', `format        ${IMAGE_TARGETS.map((t) => t.padStart(9)).join('')}    inputs`);
    for (const format of FORMATS) {
      const cells = IMAGE_TARGETS.map((t) => counts.get(`${format}/${t}`) ?? 0);
      lines.push(
        `${format.padEnd(14)}${cells.map((n) => n.toLocaleString('en').padStart(9)).join('')} ${cells
          .reduce((a, b) => a + b, 0)
          .toLocaleString('en')
          .padStart(9)}`,
      );
    }
  }
  const fed = BYTES_TARGETS.filter((t) => counts.has(t));
  if (fed.length > 0) {
    lines.push('', 'target          inputs');
    for (const target of fed) lines.push(`${target.padEnd(12)}${figure(counts.get(target)!, 10)}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const args = parse();
  const root = resolve(args.root);
  const only = targetsOf(args.target);
  if (args.plan) return plan(root, args.seed!, args.plan, only);
  const cache = join(root, '.cache/fuzz');
  const scratch = join('/dev/shm', `irpscope-fuzz-${process.pid}`);
  const timeoutMs = Number(args.timeout) * 1000;
  const context: RunContext = { cli: args.cli ?? join(root, 'out/node/cli.js'), scratch, timeoutMs };
  if (args.replay) return replay(args.replay, root, context);

  // Input N of a seed is another input for another choice of targets: each choice has its state.
  const statePath = join(cache, `campaign-${args.seed}${only ? `-${only.join('+')}` : ''}.state.json`);
  const saved =
    args.resume && existsSync(statePath) ? (JSON.parse(readFileSync(statePath, 'utf8')) as SavedState) : null;
  if (args.resume && !saved) throw new Error(`--resume: no saved campaign for seed ${args.seed}`);
  const inputLimit = args.inputs ? Number(args.inputs) : (saved?.inputLimit ?? Infinity);
  const deadline = args.minutes ? Date.now() + Number(args.minutes) * 60_000 : Infinity;
  if (inputLimit === Infinity && deadline === Infinity)
    throw new Error('say how long: --minutes N or --inputs N');
  const { available, skipped } = layouts(root);
  const wanted = needs(only);
  process.stdout.write(
    `fuzz: seed ${args.seed}; preparing ${[
      ...(wanted.images ? [`${available.length * FORMATS.length} base images`] : []),
      ...wanted.bytes.map((t) => `the seeds of ${t}`),
    ].join(', ')} in ${cache}\n`,
  );
  const prepared = loadBases(root, cache, only);
  for (const target of wanted.bytes)
    process.stdout.write(`  ${target}: ${prepared.seeds[target].length} seeds\n`);
  closeBases(prepared);
  mkdirSync(join(cache, 'crashes'), { recursive: true });
  mkdirSync(scratch, { recursive: true });

  const totals: Totals = saved
    ? {
        ...saved.totals,
        counts: new Map(Object.entries(saved.totals.counts)),
        messages: new Map(Object.entries(saved.totals.messages)),
        ms: new Map(Object.entries(saved.totals.ms)),
        slowestByTarget: saved.totals.slowestByTarget ?? {},
      }
    : {
        inputs: 0,
        counts: new Map(),
        messages: new Map(),
        ms: new Map(),
        slowest: null,
        slowestByTarget: {},
        crashes: [],
        hangs: [],
        peakRss: 0,
      };
  const finished: Array<[number, number]> = saved?.done ?? [];
  const earlierSeconds = saved?.seconds ?? 0;
  const sittings = (saved?.sittings ?? 0) + 1;
  if (saved)
    process.stdout.write(
      `resuming: ${totals.inputs.toLocaleString('en')} inputs done in ${sittings - 1} sitting(s)\n`,
    );
  const started = Date.now();
  const elapsed = () => earlierSeconds + (Date.now() - started) / 1000;
  const writeState = () =>
    saveState(statePath, {
      seed: args.seed!,
      inputLimit: Number.isFinite(inputLimit) ? inputLimit : null,
      seconds: elapsed(),
      sittings,
      done: finished,
      totals: {
        ...totals,
        counts: Object.fromEntries(totals.counts),
        messages: Object.fromEntries(totals.messages),
        ms: Object.fromEntries(totals.ms),
      },
    });
  let next = 0;
  const workerCount = Math.max(1, Number(args.workers));
  const script = new URL('./worker.mjs', import.meta.url);
  let bases: Bases | null = null; // made when a hung input has to be described

  const running = new Set<Promise<void>>();
  const runWorker = (): Promise<void> =>
    new Promise((done) => {
      const status = new SharedArrayBuffer(16);
      const view = new Float64Array(status);
      const config: WorkerConfig = {
        root,
        cache,
        seed: args.seed!,
        ...(only ? { targets: only } : {}),
        context,
        status,
      };
      const worker = new Worker(script, {
        workerData: config,
        resourceLimits: { maxOldGenerationSizeMb: Math.min(4096, totalmem() / (1 << 20) / 4) },
      });
      let batch: { from: number; to: number } | null = null;
      const give = () => {
        const leftOver = pending.shift();
        if (leftOver) {
          batch = leftOver;
          worker.postMessage({ type: 'batch', ...leftOver } satisfies ToWorker);
          return;
        }
        const range = Date.now() < deadline ? nextRange(finished, next, BATCH, inputLimit) : null;
        if (!range) {
          next = inputLimit;
          worker.postMessage({ type: 'stop' } satisfies ToWorker);
          return;
        }
        next = range.to;
        batch = range;
        worker.postMessage({ type: 'batch', ...range } satisfies ToWorker);
      };
      const watchdog = setInterval(() => {
        const since = view[1]!;
        if (since > 0 && Date.now() - since > timeoutMs) {
          const index = view[0]!;
          clearInterval(watchdog);
          let saved: SerialInput | null = null;
          try {
            bases ??= loadBases(root, cache, only);
            saved = serialise(args.seed!, makeInput(args.seed!, index, bases, only));
          } catch {
            // described by index alone
          }
          totals.hangs.push({
            index,
            target: drawPlan(args.seed!, index, [], only).target,
            seconds: Math.round((Date.now() - since) / 1000),
            input: saved,
          });
          writeFileSync(
            join(cache, 'crashes', `hang-${args.seed}-${index}.json`),
            JSON.stringify({ hang: true, minimized: saved }, null, 2),
          );
          // The rest of the hung batch goes to a fresh worker.
          const rest = batch && index + 1 < batch.to ? { from: index + 1, to: batch.to } : null;
          if (batch) {
            // Inputs before the hang ran (their figures went with the worker); the hang is one.
            addRange(finished, batch.from, index + 1);
            totals.inputs += index + 1 - batch.from;
          }
          batch = null;
          void worker.terminate().then(() => {
            if (rest) pending.push(rest);
            start();
            done();
          });
        }
      }, 1000);
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') return give();
        const { stats } = message;
        if (batch) {
          totals.inputs += batch.to - batch.from;
          addRange(finished, batch.from, batch.to);
        }
        for (const [k, v] of Object.entries(stats.counts))
          totals.counts.set(k, (totals.counts.get(k) ?? 0) + v);
        for (const [k, v] of Object.entries(stats.ms)) totals.ms.set(k, (totals.ms.get(k) ?? 0) + v);
        for (const [k, v] of Object.entries(stats.messages))
          totals.messages.set(k, (totals.messages.get(k) ?? 0) + v);
        if (stats.slowest && (!totals.slowest || stats.slowest.ms > totals.slowest.ms))
          totals.slowest = stats.slowest;
        for (const [target, slowest] of Object.entries(stats.slowestByTarget))
          if (slowest.ms > (totals.slowestByTarget[target]?.ms ?? -1))
            totals.slowestByTarget[target] = slowest;
        for (const crash of stats.crashes) {
          totals.crashes.push(crash);
          writeFileSync(
            join(cache, 'crashes', `crash-${args.seed}-${crash.input.index}.json`),
            JSON.stringify(crash, null, 2),
          );
          process.stdout.write(
            `CRASH #${crash.input.index} ${crash.input.base} ${crash.input.target}: ${crash.outcome.message}\n`,
          );
        }
        give();
      });
      worker.on('error', (error) => {
        clearInterval(watchdog);
        const died: SerialInput = {
          seed: args.seed!,
          index: view[0]!,
          base: '?',
          target: drawPlan(args.seed!, view[0]!, [], only).target,
          file: '?',
          description: 'worker died',
          patches: [],
        };
        totals.crashes.push({
          input: died,
          outcome: { status: 'crash', message: `worker died: ${error.message}` },
          minimized: died,
        });
        process.stdout.write(`CRASH worker died on #${view[0]}: ${error.message}\n`);
        start();
        done();
      });
      worker.on('exit', () => {
        clearInterval(watchdog);
        done();
      });
    });
  const pending: Array<{ from: number; to: number }> = [];
  const start = () => {
    if (pending.length === 0 && !nextRange(finished, next, BATCH, inputLimit)) return;
    if (Date.now() >= deadline) return;
    const p = runWorker();
    running.add(p);
    void p.then(() => running.delete(p));
  };
  for (let i = 0; i < workerCount; i++) start();

  const progress = setInterval(() => {
    totals.peakRss = Math.max(totals.peakRss, process.memoryUsage().rss);
  }, 250);
  const checkpoint = setInterval(writeState, 30_000);
  const report = setInterval(() => {
    const seconds = elapsed();
    process.stdout.write(
      `${new Date().toISOString().slice(11, 19)}  ${totals.inputs.toLocaleString('en')} inputs  ${Math.round(totals.inputs / seconds)}/s  crashes ${totals.crashes.length}  hangs ${totals.hangs.length}  peak RSS ${mib(totals.peakRss)}\n`,
    );
  }, 60_000);
  while (running.size > 0) await Promise.race(running);
  clearInterval(progress);
  clearInterval(report);
  clearInterval(checkpoint);
  writeState();
  const seconds = elapsed();
  const text = summarise(totals, seconds, workerCount, args.seed!, skipped, sittings);
  process.stdout.write(`\n${text}\n`);
  if (args.summary)
    writeFileSync(
      args.summary,
      JSON.stringify(
        {
          seed: args.seed,
          seconds,
          workers: workerCount,
          sittings,
          inputs: totals.inputs,
          counts: Object.fromEntries(totals.counts),
          crashes: totals.crashes.length,
          hangs: totals.hangs.length,
          peakRss: totals.peakRss,
          slowest: totals.slowest,
          messages: Object.fromEntries(totals.messages),
          ms: Object.fromEntries(totals.ms),
          slowestByTarget: totals.slowestByTarget,
          hangList: totals.hangs.map((h) => ({ index: h.index, target: h.target, seconds: h.seconds })),
          text,
        },
        null,
        2,
      ),
    );
  process.exitCode = totals.crashes.length + totals.hangs.length > 0 ? 1 : 0;
}

await main();
