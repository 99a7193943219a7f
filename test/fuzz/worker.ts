// A campaign worker thread: makes and runs the inputs of the batches it is given, and says which
// input it is on through shared memory, so that the campaign can see a hang even when this
// thread is stuck in a loop and cannot post a message.

import { parentPort, workerData } from 'node:worker_threads';
import type { QmpReplayOptions } from '../../src/core/node/capture/replay';
import { closeBases, loadBases } from './load';
import { isBytesInput, makeInput, type Bases, type FuzzInput, type ImageInput, type Target } from './mutate';
import { withSteps, type BytesInput, type PeMemory } from './mutate-bytes';
import { runInput, type Outcome, type RunContext } from './targets';

export interface WorkerConfig {
  root: string;
  cache: string;
  seed: string;
  /** The inputs go to these targets (shared equally), else to the weighted mix of image targets. */
  targets?: Target[];
  context: RunContext;
  /** [input index, start time in ms since the epoch] written before each input. */
  status: SharedArrayBuffer;
}

export interface Slowest {
  index: number;
  ms: number;
  base: string;
  target: string;
  description: string;
}

export interface BatchStats {
  /** "<base>/<target>/<status>" → count (the base of a seed-fed target is its seed) */
  counts: Record<string, number>;
  /** The slowest input but for the CLI's (a process start). */
  slowest: Slowest | null;
  /** target → its slowest input */
  slowestByTarget: Record<string, Slowest>;
  crashes: Array<{ input: SerialInput; outcome: Outcome; minimized: SerialInput }>;
  /**
   * First lines of ImageError messages → count (what a damaged image is told); the other
   * targets' refusals as "<target>: <message>".
   */
  messages: Record<string, number>;
  /** target → milliseconds spent */
  ms: Record<string, number>;
}

export interface SerialInput {
  seed: string;
  index: number;
  base: string;
  target: FuzzInput['target'];
  /** The base image's file changed; for a seed-fed target, empty. */
  file: string;
  description: string;
  truncateAt?: number;
  patches: Array<{ offset: number; hex: string }>;
  /** A seed-fed target's input, whole, in base64. */
  data?: string;
  /** qmp-replies: the replay's options. */
  qmp?: QmpReplayOptions;
  /** pe-headers: where the image was loaded, and what the pages after its header hold. */
  peBase?: string;
  peMemory?: PeMemory;
}

export type ToWorker = { type: 'batch'; from: number; to: number } | { type: 'stop' };
export type FromWorker =
  { type: 'ready'; bases: string[] } | { type: 'batch-done'; from: number; stats: BatchStats };

export function serialise(seed: string, input: FuzzInput): SerialInput {
  if (isBytesInput(input))
    return {
      seed,
      index: input.index,
      base: input.base,
      target: input.target,
      file: '',
      description: input.description,
      patches: [],
      data: Buffer.from(input.bytes).toString('base64'),
      ...(input.qmp ? { qmp: input.qmp } : {}),
      ...(input.seed.base !== undefined ? { peBase: `0x${input.seed.base.toString(16)}` } : {}),
      ...(input.peMemory ? { peMemory: input.peMemory } : {}),
    };
  return {
    seed,
    index: input.index,
    base: input.base,
    target: input.target,
    file: input.file.split('/').pop()!,
    description: input.description,
    ...(input.truncateAt === undefined ? {} : { truncateAt: input.truncateAt }),
    patches: input.patches.map((p) => ({ offset: p.offset, hex: Buffer.from(p.bytes).toString('hex') })),
  };
}

/** Messages name offsets and addresses; the shape without them counts alike. */
function messageShape(message: string): string {
  return message
    .replace(/\S*\/(image\.\w+)/g, '$1')
    .replace(/0x[0-9a-f]+|\b\d+\b/gi, 'N')
    .slice(0, 160);
}

const MAX_MINIMIZE_RUNS = 400;

/** Drops steps one at a time while the input still crashes the same way. */
async function minimizeSteps(input: BytesInput, outcome: Outcome, context: RunContext): Promise<BytesInput> {
  let keep = input.steps.map((_, i) => i);
  for (let at = 0; at < keep.length && keep.length > 1;) {
    const candidate = withSteps(input, [...keep.slice(0, at), ...keep.slice(at + 1)]);
    const again = await runInput(undefined, candidate, context);
    if (again.status === 'crash' && messageShape(again.message ?? '') === messageShape(outcome.message ?? ''))
      keep = [...keep.slice(0, at), ...keep.slice(at + 1)];
    else at++;
  }
  const current = keep.length === input.steps.length ? input : withSteps(input, keep);
  return {
    ...current,
    description: `${input.description} → minimized to ${current.steps.map((s) => s.label).join(' + ')} (${current.bytes.length} bytes)`,
  };
}

/** Drops patches (and the cut) one at a time while the input still crashes the same way. */
export async function minimize(
  bases: Bases,
  input: FuzzInput,
  outcome: Outcome,
  context: RunContext,
): Promise<FuzzInput> {
  if (isBytesInput(input)) return minimizeSteps(input, outcome, context);
  const base = bases.list.find((b) => b.key === input.base)!;
  let current: ImageInput = input;
  let runs = 0;
  const same = async (candidate: ImageInput) => {
    runs++;
    const again = await runInput(base, candidate, context);
    return (
      again.status === 'crash' && messageShape(again.message ?? '') === messageShape(outcome.message ?? '')
    );
  };
  if (current.truncateAt !== undefined) {
    const candidate = { ...current, truncateAt: undefined };
    if (await same(candidate)) current = candidate;
  }
  // Halves first, then single patches.
  for (
    let chunk = Math.ceil(current.patches.length / 2);
    chunk >= 1 && runs < MAX_MINIMIZE_RUNS;
    chunk = Math.floor(chunk / 2)
  ) {
    for (let at = 0; at < current.patches.length && runs < MAX_MINIMIZE_RUNS;) {
      const candidate = {
        ...current,
        patches: [...current.patches.slice(0, at), ...current.patches.slice(at + chunk)],
      };
      if (await same(candidate)) current = candidate;
      else at += chunk;
    }
    if (chunk === 1) break;
  }
  return {
    ...current,
    description: `${input.description} → minimized to ${current.patches.length} patch(es)${current.truncateAt === undefined ? '' : ` and the cut`}`,
  };
}

async function main(): Promise<void> {
  const config = workerData as WorkerConfig;
  const status = new Float64Array(config.status);
  const bases = loadBases(config.root, config.cache, config.targets);
  const list = bases.list;
  parentPort!.postMessage({ type: 'ready', bases: list.map((b) => b.key) } satisfies FromWorker);
  parentPort!.on('message', (message: ToWorker) => {
    if (message.type === 'stop') {
      closeBases(bases);
      process.exit(0);
    }
    void runBatch(message.from, message.to).then((stats) =>
      parentPort!.postMessage({ type: 'batch-done', from: message.from, stats } satisfies FromWorker),
    );
  });

  async function runBatch(from: number, to: number): Promise<BatchStats> {
    const stats: BatchStats = {
      counts: {},
      slowest: null,
      slowestByTarget: {},
      crashes: [],
      messages: {},
      ms: {},
    };
    for (let index = from; index < to; index++) {
      // The index first: if making the input fails, the worker's death names the right one.
      status[0] = index;
      const input = makeInput(config.seed, index, bases, config.targets);
      const base = isBytesInput(input) ? undefined : list.find((b) => b.key === input.base)!;
      status[1] = Date.now();
      const started = performance.now();
      const outcome = await runInput(base, input, config.context);
      const ms = performance.now() - started;
      status[1] = 0;
      stats.ms[input.target] = (stats.ms[input.target] ?? 0) + ms;
      const key = `${input.base}/${input.target}/${outcome.status}`;
      stats.counts[key] = (stats.counts[key] ?? 0) + 1;
      const timing: Slowest = {
        index,
        ms,
        base: input.base,
        target: input.target,
        description: input.description,
      };
      if (input.target !== 'cli' && (!stats.slowest || ms > stats.slowest.ms)) stats.slowest = timing;
      if (ms > (stats.slowestByTarget[input.target]?.ms ?? -1)) stats.slowestByTarget[input.target] = timing;
      if (outcome.status === 'image-error' || outcome.status === 'refused') {
        const shape = `${outcome.status === 'refused' ? `${input.target}: ` : ''}${messageShape(outcome.message ?? '')}`;
        stats.messages[shape] = (stats.messages[shape] ?? 0) + 1;
      }
      if (outcome.status === 'crash') {
        status[1] = Date.now();
        const minimized = await minimize(bases, input, outcome, config.context);
        status[1] = 0;
        stats.crashes.push({
          input: serialise(config.seed, input),
          outcome,
          minimized: serialise(config.seed, minimized),
        });
      }
    }
    return stats;
  }
}

if (parentPort) void main();
