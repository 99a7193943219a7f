// A campaign worker thread: makes and runs the inputs of the batches it is given, and says which
// input it is on through shared memory, so that the campaign can see a hang even when this
// thread is stuck in a loop and cannot post a message.

import { parentPort, workerData } from 'node:worker_threads';
import { openImageFromSource } from '../../src/core/image';
import { layouts, prepareCorpus } from './corpus';
import { makeInput, sitesOf, type Bases, type FuzzInput, type Target } from './mutate';
import { OverlaySource } from './overlay-source';
import { runInput, type Outcome, type RunContext } from './targets';

export interface WorkerConfig {
  root: string;
  cache: string;
  seed: string;
  /** Every input goes to this target (a focused campaign), else the weighted mix. */
  target?: Target;
  context: RunContext;
  /** [input index, start time in ms since the epoch] written before each input. */
  status: SharedArrayBuffer;
}

export interface BatchStats {
  /** "<base>/<target>/<status>" → count */
  counts: Record<string, number>;
  slowest: { index: number; ms: number; base: string; target: string; description: string } | null;
  crashes: Array<{ input: SerialInput; outcome: Outcome; minimized: SerialInput }>;
  /** First lines of ImageError messages → count (what a damaged image is told). */
  messages: Record<string, number>;
  /** target → milliseconds spent */
  ms: Record<string, number>;
}

export interface SerialInput {
  seed: string;
  index: number;
  base: string;
  target: FuzzInput['target'];
  file: string;
  description: string;
  truncateAt?: number;
  patches: Array<{ offset: number; hex: string }>;
}

export type ToWorker = { type: 'batch'; from: number; to: number } | { type: 'stop' };
export type FromWorker =
  { type: 'ready'; bases: string[] } | { type: 'batch-done'; from: number; stats: BatchStats };

export function serialise(seed: string, input: FuzzInput): SerialInput {
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

/** Drops patches (and the cut) one at a time while the input still crashes the same way. */
export async function minimize(
  bases: Bases,
  input: FuzzInput,
  outcome: Outcome,
  context: RunContext,
): Promise<FuzzInput> {
  const base = bases.list.find((b) => b.key === input.base)!;
  let current = input;
  let runs = 0;
  const same = async (candidate: FuzzInput) => {
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
  const list = prepareCorpus(config.root, config.cache, layouts(config.root).available);
  const bases: Bases = { list, sites: new Map() };
  for (const base of list) {
    const main = base.sources.get(base.companion ?? base.image)!;
    const space = openImageFromSource(
      new OverlaySource(main, []),
      base.companion ? { vmwareMemory: new OverlaySource(base.sources.get(base.image)!, []) } : {},
    );
    bases.sites.set(base.key, sitesOf(base, space));
  }
  parentPort!.postMessage({ type: 'ready', bases: list.map((b) => b.key) } satisfies FromWorker);
  parentPort!.on('message', (message: ToWorker) => {
    if (message.type === 'stop') {
      for (const base of list) for (const source of base.sources.values()) source.close();
      process.exit(0);
    }
    void runBatch(message.from, message.to).then((stats) =>
      parentPort!.postMessage({ type: 'batch-done', from: message.from, stats } satisfies FromWorker),
    );
  });

  async function runBatch(from: number, to: number): Promise<BatchStats> {
    const stats: BatchStats = { counts: {}, slowest: null, crashes: [], messages: {}, ms: {} };
    for (let index = from; index < to; index++) {
      const input = makeInput(config.seed, index, bases, config.target);
      const base = list.find((b) => b.key === input.base)!;
      status[0] = index;
      status[1] = Date.now();
      const started = performance.now();
      const outcome = await runInput(base, input, config.context);
      const ms = performance.now() - started;
      status[1] = 0;
      stats.ms[input.target] = (stats.ms[input.target] ?? 0) + ms;
      const key = `${input.base}/${input.target}/${outcome.status}`;
      stats.counts[key] = (stats.counts[key] ?? 0) + 1;
      if (input.target !== 'cli' && (!stats.slowest || ms > stats.slowest.ms))
        stats.slowest = { index, ms, base: input.base, target: input.target, description: input.description };
      if (outcome.status === 'image-error') {
        const shape = messageShape(outcome.message ?? '');
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
