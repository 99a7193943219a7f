#!/usr/bin/env node
// npm run bench:fleet: the fleet's throughput and the queue's own cost, measured in one run on
// this machine (not asserted). Builds its images once into .cache/bench-fleet (one installation
// of x64 Windows 10 2004: a clean baseline on boot 1 and BENCH_HOSTS hosts on later boots, a third
// of them infected; BENCH_SIZE each, random fill), then times, BENCH_RUNS times each (median):
//   - `irpscope diff baseline host` for every host, one after the other (what an analyst without
//     the fleet runs: each diff analyses the baseline again);
//   - `irpscope fleet run --concurrency 1` (the same job function on the in-process queue);
//   - `irpscope fleet submit` to a Redis of its own with 1 `irpscope worker` (concurrency 1), and
//     with 2 worker processes: from the submit to the last job done, as the workers report it.
// The queue's own overhead is BullMQ with one worker against the in-process queue doing the same
// jobs one at a time. Redis memory per job is read from INFO and MEMORY USAGE after a run.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const CACHE = join(ROOT, '.cache/bench-fleet');
const SHARED = process.env.IRPSCOPE_SHARED ?? join(ROOT, '../shared');
const ISF = join(SHARED, 'isf/windows/ntkrnlmp.pdb/1C9875F76C8F0FBF3EB9A9D7C1C27406-1.json.xz');
const CLI = join(ROOT, 'out/node/cli.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const HOSTS = Number(process.env.BENCH_HOSTS ?? 10);
const SIZE = process.env.BENCH_SIZE ?? '512M';

mkdirSync(CACHE, { recursive: true });
const BUILDER = (() => {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(name).update(readFileSync(path));
    }
  };
  walk(join(ROOT, 'src/builder'));
  return hash.digest('hex').slice(0, 10);
})();
for (const name of readdirSync(CACHE))
  if (statSync(join(CACHE, name)).isDirectory() && !name.startsWith(`${BUILDER}-`))
    rmSync(join(CACHE, name), { recursive: true, force: true });
execFileSync('npm', ['run', '--silent', 'build:node'], { cwd: ROOT, stdio: 'inherit' });

const hostsFolder = join(CACHE, `${BUILDER}-${SIZE}-hosts`);
function build(key, args) {
  const directory = join(CACHE, `${BUILDER}-${SIZE}-${key}`);
  if (!existsSync(join(directory, 'truth.json'))) {
    process.stderr.write(`building ${key} (${SIZE})\n`);
    execFileSync(
      'npx',
      [
        'tsx',
        'src/builder/cli.ts',
        '--isf',
        ISF,
        '--format',
        'raw',
        '--size',
        SIZE,
        '--seed',
        '2101',
        '--out',
        directory,
        ...args,
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  return join(directory, 'image.raw');
}
const baseline = build('baseline', ['--scenario', 'clean', '--boot', '1']);
mkdirSync(hostsFolder, { recursive: true });
const hosts = Array.from({ length: HOSTS }, (_, i) => {
  const infected = i % 3 === 1;
  const image = build(`host-${i}`, [
    '--scenario',
    infected ? 'infected' : 'clean',
    ...(infected ? ['--infections', 'irpHook'] : []),
    '--boot',
    String(i + 2),
  ]);
  const link = join(hostsFolder, `host-${String(i).padStart(2, '0')}.raw`);
  if (!existsSync(link)) execFileSync('ln', ['-s', image, link]);
  return image;
});
const JOBS = HOSTS + 1;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const seconds = (ms) => (ms / 1000).toFixed(2);

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts a process; resolves `line(test)` on the first stderr/stdout line that passes. */
function start(command, args) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const waiters = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop();
      for (const line of parts) {
        lines.push(line);
        for (const w of [...waiters])
          if (w.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
      }
    });
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    child,
    lines,
    exited,
    line: (test) =>
      lines.some(test) ? Promise.resolve() : new Promise((resolve) => waiters.push({ test, resolve })),
  };
}

async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'irpscope-bench-redis-'));
  const server = start('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  await server.line((l) => l.includes('Ready to accept connections'));
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    cli: (...args) => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).trim(),
    async stop() {
      server.child.kill('SIGTERM');
      await server.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function timed(args, ok = [0, 1, 2]) {
  const started = performance.now();
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (!ok.includes(run.status)) throw new Error(`irpscope ${args.join(' ')}: ${run.stderr}`);
  return { ms: performance.now() - started, stdout: run.stdout };
}

function diffAll() {
  return hosts.reduce((total, host) => total + timed(['diff', baseline, host]).ms, 0);
}

function fleetRun() {
  const results = mkdtempSync(join(tmpdir(), 'irpscope-bench-results-'));
  try {
    return timed([
      'fleet',
      'run',
      '--concurrency',
      '1',
      '--results',
      results,
      '--baseline',
      baseline,
      hostsFolder,
    ]).ms;
  } finally {
    rmSync(results, { recursive: true, force: true });
  }
}

/** Submit to a fresh Redis with `workers` worker processes; ms from submit to the last job done. */
async function fleetOnRedis(workers, memory) {
  const redis = await startRedis();
  const results = mkdtempSync(join(tmpdir(), 'irpscope-bench-results-'));
  const procs = Array.from({ length: workers }, (_, i) =>
    start(process.execPath, [CLI, 'worker', '--redis', redis.url, '--results', results, '--name', `w${i}`]),
  );
  try {
    await Promise.all(procs.map((p) => p.line((l) => l.includes('takes jobs from'))));
    const before = Number(/used_memory:(\d+)/.exec(redis.cli('info', 'memory'))[1]);
    const started = performance.now();
    timed(
      ['fleet', 'submit', '--redis', redis.url, '--fleet', 'bench', '--baseline', baseline, hostsFolder],
      [0],
    );
    const finished = () =>
      procs.flatMap((p) => p.lines).filter((l) => / (done|failed) (host|baseline) /.test(l)).length;
    await new Promise((resolve) => {
      const check = () => (finished() >= JOBS ? resolve() : setTimeout(check, 20));
      check();
    });
    const ms = performance.now() - started;
    if (memory) {
      const after = Number(/used_memory:(\d+)/.exec(redis.cli('info', 'memory'))[1]);
      const usage = (pattern) =>
        redis
          .cli('--scan', '--pattern', pattern)
          .split('\n')
          .filter(Boolean)
          .map((key) => Number(redis.cli('memory', 'usage', key, 'samples', '0')));
      memory.perJob = (after - before) / JOBS;
      memory.hostJobHash = median(usage('irpscope:fleet:h-*').filter((n) => n > 0));
      memory.baselineAnalysis = usage('irpscope:fleets:bench:analysis:*')[0];
      memory.events = usage('irpscope:fleet:events')[0];
    }
    return ms;
  } finally {
    for (const p of procs) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    await redis.stop();
    rmSync(results, { recursive: true, force: true });
  }
}

const figures = { diff: [], run: [], one: [], two: [] };
const memory = {};
for (let run = 0; run < RUNS; run++) {
  process.stderr.write(`run ${run + 1}/${RUNS}\n`);
  figures.diff.push(diffAll());
  figures.run.push(fleetRun());
  figures.one.push(await fleetOnRedis(1, run === 0 ? memory : null));
  figures.two.push(await fleetOnRedis(2, null));
}
const m = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, median(v)]));
const perMinute = (ms) => ((JOBS * 60_000) / ms).toFixed(1);
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const lines = [
  `fleet bench: ${HOSTS} hosts + 1 baseline, ${SIZE} each (x64 Windows 10 2004, random fill, one installation), ${availableParallelism()} cores; median of ${RUNS} runs`,
  '',
  '| how | wall time | images/minute | against the in-process queue |',
  '| --- | --- | --- | --- |',
  `| \`irpscope diff\` × ${HOSTS}, one after the other | ${seconds(m.diff)} s | ${((HOSTS * 60_000) / m.diff).toFixed(1)} hosts | ${(m.diff / m.run).toFixed(2)} |`,
  `| \`fleet run --concurrency 1\` (in-process queue) | ${seconds(m.run)} s | ${perMinute(m.run)} | 1.00 |`,
  `| BullMQ, 1 worker process | ${seconds(m.one)} s | ${perMinute(m.one)} | ${(m.one / m.run).toFixed(3)} |`,
  `| BullMQ, 2 worker processes | ${seconds(m.two)} s | ${perMinute(m.two)} | ${(m.two / m.run).toFixed(3)} |`,
  '',
  `every run (s): diff ${figures.diff.map(seconds).join(', ')}; fleet run ${figures.run.map(seconds).join(', ')}; 1 worker ${figures.one.map(seconds).join(', ')}; 2 workers ${figures.two.map(seconds).join(', ')}`,
  `queue overhead (1 BullMQ worker against the in-process queue, same jobs one at a time): ${(((m.one - m.run) / m.run) * 100).toFixed(1)} % of the run, ${((m.one - m.run) / JOBS).toFixed(0)} ms per job (the submit's own process start included)`,
  `per run, BullMQ 1 worker / in-process: ${figures.one.map((one, i) => (one / figures.run[i]).toFixed(3)).join(', ')}`,
  `Redis memory: ${kib(memory.perJob)} per job (INFO used_memory, whole fleet / jobs); a host's job hash ${kib(memory.hostJobHash)}; the baseline's analysis ${kib(memory.baselineAnalysis)}; BullMQ's event stream ${kib(memory.events)} (capped at 10,000 events)`,
];
writeFileSync(join(CACHE, 'results.md'), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
