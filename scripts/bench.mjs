#!/usr/bin/env node
// npm run bench: speed and memory figures, measured in one run on this machine (not asserted).
// Builds its images once into .cache/bench (x64 Windows 10 2004 256 MiB, 1, 2, 4 and 16 GiB, x86
// PAE 1 GiB, random fill; zero-filled sparse 1 GiB and 16 GiB), then times `cat image | wc -c`
// (the file read into a pipe, warm cache) against `irpscope info` and `irpscope analyze`, with
// each one's peak memory, and reports issue 23's targets (start-up against a bare `node`; on the
// 2 GiB image the verdicts and discovery stages' own timings, info's wall time, analyze against
// cat; analyze against cat on 16 GiB; peak memory from 256 MiB to 16 GiB; diff against the two
// analyses at once); then
// `irpscope diff` of a clean image on another boot against the infected one, next to the two
// analyses run one after the other; and how long hostile headers and page tables take to see
// through (scripts/bench-hostile.mjs: the tests check their outcome, not their speed).

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const CACHE = join(ROOT, '.cache/bench');
// The shared data beside this checkout, or beside the repository it was cloned from (test/support/shared.ts).
const SHARED = (() => {
  if (process.env.IRPSCOPE_SHARED) return process.env.IRPSCOPE_SHARED;
  const beside = join(ROOT, '../shared');
  if (existsSync(beside)) return beside;
  try {
    const origin = execFileSync('git', ['-C', ROOT, 'remote', 'get-url', 'origin'], {
      encoding: 'utf8',
    }).trim();
    if (origin.startsWith('/') && existsSync(join(origin, '../shared'))) return join(origin, '../shared');
  } catch {
    // no origin
  }
  return beside;
})();
const ISF = join(SHARED, 'isf/windows/ntkrnlmp.pdb/1C9875F76C8F0FBF3EB9A9D7C1C27406-1.json.xz');
const CLI = join(ROOT, 'out/node/cli.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
// BENCH_IMAGES=x64-2g (keys, comma-separated) measures only those images, and what needs only them.
const ONLY = process.env.BENCH_IMAGES ? new Set(process.env.BENCH_IMAGES.split(',')) : null;

mkdirSync(CACHE, { recursive: true });
// Images are kept per version of the builder's sources: a changed builder builds them anew.
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

const images = [
  {
    key: 'x64-256m',
    label: 'x64 Windows 10 2004, 256 MiB, random',
    args: ['--isf', ISF, '--size', '256M'],
    analyze: true,
  },
  {
    key: 'x64-1g',
    label: 'x64 Windows 10 2004, 1 GiB, random',
    args: ['--isf', ISF, '--size', '1G'],
    analyze: true,
  },
  {
    key: 'x64-2g',
    label: 'x64 Windows 10 2004, 2 GiB, random',
    args: ['--isf', ISF, '--size', '2G'],
    analyze: true,
  },
  {
    key: 'x64-4g',
    label: 'x64 Windows 10 2004, 4 GiB, random',
    args: ['--isf', ISF, '--size', '4G'],
    analyze: true,
    timeBuild: true,
  },
  // Clean baselines of the same systems, taken on another boot, for the diff figures.
  {
    key: 'x64-1g-clean',
    label: 'x64 Windows 10 2004, 1 GiB, random, clean, boot 2',
    args: ['--isf', ISF, '--size', '1G', '--scenario', 'clean', '--boot', '2'],
    analyze: true,
  },
  {
    key: 'x64-4g-clean',
    label: 'x64 Windows 10 2004, 4 GiB, random, clean, boot 2',
    args: ['--isf', ISF, '--size', '4G', '--scenario', 'clean', '--boot', '2'],
    analyze: true,
  },
  {
    key: 'x86-pae-1g',
    label: 'x86 Windows 7 SP1 PAE, 1 GiB, random',
    args: ['--profile', 'win7-sp1-x86-pae', '--size', '1G'],
    analyze: true,
  },
  {
    key: 'x64-1g-zero',
    label: 'x64 Windows 10 2004, 1 GiB, zero (sparse)',
    args: ['--isf', ISF, '--size', '1G', '--fill', 'zero'],
    analyze: false,
  },
  {
    key: 'x64-16g-zero',
    label: 'x64 Windows 10 2004, 16 GiB, zero (sparse)',
    args: ['--isf', ISF, '--size', '16G', '--fill', 'zero'],
    analyze: true,
  },
  // The scan at the speed of the read: 16 GiB of random pages the page cache holds (about 5 min
  // to build, 17 GiB of disk).
  {
    key: 'x64-16g',
    label: 'x64 Windows 10 2004, 16 GiB, random',
    args: ['--isf', ISF, '--size', '16G'],
    analyze: true,
  },
];

/** Runs a command under /usr/bin/time; returns wall seconds and peak RSS in MiB. */
function measure(command, args, okStatus = [0]) {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M', command, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (!okStatus.includes(result.status))
    throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  const [seconds, kib] = result.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { seconds, rssMiB: kib / 1024, stdout: result.stdout };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The file read into a pipe, as `analyze --json` writes into one. */
const catIntoPipe = (path) => measure('sh', ['-c', `cat '${path}' | wc -c > /dev/null`]);

/** A stage's own time in a result's timings (ms). */
const stageMs = (timings, stage) => timings.find((t) => t.stage === stage)?.ms ?? NaN;

/** Finding the kernel: every timed stage of `info` but the layouts established after it (ms). */
const discoveryMs = (info) =>
  info.timings.filter((t) => t.stage !== 'layouts').reduce((sum, t) => sum + t.ms, 0);

// Issue 23's targets, measured on the 2 GiB image unless named otherwise.
const TARGETS = {
  startupSeconds: 0.12,
  verdictsMs: 50,
  discoveryMs: 50,
  infoSeconds: 0.35,
  analyzeOverCat: 1.5,
  analyzeOverCat16g: 1.2,
  peakMiB: 200,
  diffOverAtOnce: 1,
};
let targets = null;
let analyzeOverCat16g = null;
let stageRows = null;
const analyzePeaks = [];

// Start-up: `irpscope --version` (the installed command, bin/irpscope.mjs) against a bare node,
// run in turn (A B A B …), medians.
const startup = (() => {
  const cli = [];
  const bare = [];
  for (let run = 0; run < RUNS * 3; run++) {
    cli.push(measure('node', [join(ROOT, 'bin/irpscope.mjs'), '--version']).seconds);
    bare.push(measure('node', ['-e', '0']).seconds);
  }
  return { cli: median(cli), bare: median(bare) };
})();
console.log(JSON.stringify({ startup }));

const rows = [];
const paths = new Map();
const analyzeSeconds = new Map();
for (const image of images.filter((i) => ONLY === null || ONLY.has(i.key))) {
  const directory = join(CACHE, `${BUILDER}-${image.key}`);
  const path = join(directory, 'image.raw');
  let buildSeconds = null;
  if (!existsSync(path)) {
    process.stderr.write(`building ${image.label}…\n`);
    const built = measure('node', [
      '--import',
      'tsx',
      join(ROOT, 'src/builder/cli.ts'),
      '--scenario',
      'infected',
      ...image.args,
      '--format',
      'raw',
      '--seed',
      '1',
      '--out',
      directory,
    ]);
    buildSeconds = built.seconds;
  }
  catIntoPipe(path); // warm the page cache
  const cat = median(Array.from({ length: RUNS }, () => catIntoPipe(path).seconds));
  const infoRuns = Array.from({ length: RUNS }, () => measure('node', [CLI, 'info', path, '--json']));
  const info = JSON.parse(infoRuns[0].stdout);
  const row = {
    image: image.label,
    fileGiB: (Number(execFileSync('stat', ['-c', '%s', path], { encoding: 'utf8' })) / 2 ** 30).toFixed(2),
    build: buildSeconds === null ? '(cached)' : `${buildSeconds.toFixed(1)} s`,
    cat: `${cat.toFixed(2)} s`,
    info: `${median(infoRuns.map((r) => r.seconds)).toFixed(2)} s, ${(info.bytesRead / 2 ** 20).toFixed(1)} MiB read, ${Math.max(...infoRuns.map((r) => r.rssMiB)).toFixed(0)} MiB RSS`,
    analyze: '—',
    ratio: '—',
  };
  if (image.analyze) {
    const runs = Array.from({ length: RUNS }, () => measure('node', [CLI, 'analyze', path, '--json']));
    const seconds = median(runs.map((r) => r.seconds));
    const result = JSON.parse(runs[0].stdout);
    row.analyze = `${seconds.toFixed(2)} s, ${(result.stats.bytesScanned / 2 ** 30).toFixed(2)} GiB scanned on ${result.stats.workers} workers, ${Math.max(...runs.map((r) => r.rssMiB)).toFixed(0)} MiB RSS`;
    row.ratio = (seconds / cat).toFixed(2);
    analyzeSeconds.set(image.key, seconds);
    analyzePeaks.push({ image: image.label, rssMiB: Math.max(...runs.map((r) => r.rssMiB)) });
    if (image.key === 'x64-16g') analyzeOverCat16g = seconds / cat;
    if (image.key === 'x64-2g') {
      const results = runs.map((r) => JSON.parse(r.stdout));
      targets = {
        verdictsMs: median(results.map((r) => stageMs(r.stats.timings, 'verdicts'))),
        discoveryMs: median(infoRuns.map((r) => discoveryMs(JSON.parse(r.stdout)))),
        infoSeconds: median(infoRuns.map((r) => r.seconds)),
        analyzeOverCat: seconds / cat,
      };
      console.log(JSON.stringify({ targets }));
      // Where analyze's time goes: each stage's median (ms) and the whole run's.
      const stageMedians = (timingsOfRuns) =>
        timingsOfRuns[0].map(({ stage }) => ({
          stage,
          ms: median(timingsOfRuns.map((timings) => stageMs(timings, stage))),
        }));
      stageRows = {
        wallSeconds: seconds,
        discovery: stageMedians(results.map((r) => r.image.timings)),
        analysis: stageMedians(results.map((r) => r.stats.timings)),
      };
    }
  }
  paths.set(image.key, path);
  rows.push(row);
  console.log(JSON.stringify(row));
}

// A diff analyses both images at once (cores shared between the two scans); it should cost no
// more than the two analyses one after the other.
const diffRows = [];
for (const [label, baseline, image] of [
  ['x64 Windows 10 2004, 1 GiB: clean boot 2 against infected boot 1', 'x64-1g-clean', 'x64-1g'],
  ['x64 Windows 10 2004, 4 GiB: clean boot 2 against infected boot 1', 'x64-4g-clean', 'x64-4g'],
].filter(([, baseline, image]) => paths.has(baseline) && paths.has(image))) {
  // Both images warm in the page cache, as each was for its own analysis above.
  measure('sh', ['-c', `cat '${paths.get(baseline)}' '${paths.get(image)}' > /dev/null`]);
  const runs = Array.from({ length: RUNS }, () =>
    measure('node', [CLI, 'diff', paths.get(baseline), paths.get(image), '--json'], [0, 1]),
  );
  const seconds = median(runs.map((r) => r.seconds));
  const sequential = analyzeSeconds.get(baseline) + analyzeSeconds.get(image);
  // Issue 23's target: the two analyses as two processes at the same time.
  const bothAtOnce = `node '${CLI}' analyze '${paths.get(baseline)}' --json > /dev/null & node '${CLI}' analyze '${paths.get(image)}' --json > /dev/null & wait`;
  const parallel = median(Array.from({ length: RUNS }, () => measure('sh', ['-c', bothAtOnce]).seconds));
  const diff = JSON.parse(runs[0].stdout);
  const row = {
    pair: label,
    diff: `${seconds.toFixed(2)} s, ${Math.max(...runs.map((r) => r.rssMiB)).toFixed(0)} MiB RSS`,
    sequential: `${sequential.toFixed(2)} s`,
    ratio: (seconds / sequential).toFixed(2),
    parallel: `${parallel.toFixed(2)} s`,
    parallelRatio: (seconds / parallel).toFixed(2),
    found: `${diff.counts.differences} differences, ${diff.counts.variations} between boots`,
    overAtOnce: seconds / parallel,
  };
  diffRows.push(row);
  console.log(JSON.stringify(row));
}

const header = ['image', 'file (GiB)', 'build', 'cat into a pipe (warm)', 'info', 'analyze', 'analyze / cat'];
const table = [
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...rows.map((r) => `| ${[r.image, r.fileGiB, r.build, r.cat, r.info, r.analyze, r.ratio].join(' | ')} |`),
].join('\n');
const diffTable = [
  '| baseline against image | irpscope diff | the two analyses one after the other | diff / both | the two analyses at once | diff / at once | found |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...diffRows.map(
    (r) => `| ${[r.pair, r.diff, r.sequential, r.ratio, r.parallel, r.parallelRatio, r.found].join(' | ')} |`,
  ),
].join('\n');
// Headers that claim more than their file holds: the tests assert the outcome; the time is here.
const hostile = spawnSync('node', ['--import', 'tsx', join(ROOT, 'scripts/bench-hostile.mjs')], {
  cwd: ROOT,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const hostileTable =
  hostile.status === 0 ? hostile.stdout.trim() : '(hostile headers not measured: see above)';
console.log(hostileTable);
const cpus = execFileSync('nproc', { encoding: 'utf8' }).trim();
// The workbench's responsiveness while the 4 GiB image is analysed (needs Debian's Chromium).
const ui = paths.has('x64-4g')
  ? spawnSync('node', [join(ROOT, 'scripts/bench-ui.mjs'), paths.get('x64-4g')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
  : { status: null };
const uiLine =
  ui.status === 0
    ? ui.stdout.trim().split('\n').slice(-2).join('\n\n')
    : '(workbench responsiveness and reopen not measured: see above)';
const targetRow = (label, value, target, unit, digits) =>
  `| ${label} | ${value.toFixed(digits)}${unit} | ${target}${unit} | ${value <= target ? 'met' : 'missed'} |`;
const measuredRows = [
  targetRow(
    `start-up, \`--version\` (a bare \`node -e 0\`: ${startup.bare.toFixed(3)} s)`,
    startup.cli,
    TARGETS.startupSeconds,
    ' s',
    3,
  ),
];
if (targets)
  measuredRows.push(
    targetRow('2 GiB: verdicts stage', targets.verdictsMs, TARGETS.verdictsMs, ' ms', 0),
    targetRow(
      '2 GiB: discovery (info stages before layouts)',
      targets.discoveryMs,
      TARGETS.discoveryMs,
      ' ms',
      1,
    ),
    targetRow('2 GiB: `info`', targets.infoSeconds, TARGETS.infoSeconds, ' s', 2),
    targetRow('2 GiB: `analyze` / cat into a pipe', targets.analyzeOverCat, TARGETS.analyzeOverCat, '', 2),
  );
if (analyzeOverCat16g !== null)
  measuredRows.push(
    targetRow('16 GiB: `analyze` / cat into a pipe', analyzeOverCat16g, TARGETS.analyzeOverCat16g, '', 2),
  );
if (analyzePeaks.length > 0) {
  const peak = analyzePeaks.reduce((a, b) => (b.rssMiB > a.rssMiB ? b : a));
  measuredRows.push(
    targetRow(
      `\`analyze\` peak memory, largest of ${analyzePeaks.length} images (${peak.image})`,
      peak.rssMiB,
      TARGETS.peakMiB,
      ' MiB',
      0,
    ),
  );
}
for (const row of diffRows)
  measuredRows.push(
    targetRow(
      `\`diff\` / the two analyses at once (${row.pair})`,
      row.overAtOnce,
      TARGETS.diffOverAtOnce,
      '',
      2,
    ),
  );
const targetTable = [
  '| issue 23 target | measured (median) | target | |',
  '| --- | --- | --- | --- |',
  ...measuredRows,
].join('\n');
const stageTable = stageRows
  ? [
      `Where \`analyze\` of the 2 GiB image spends its ${stageRows.wallSeconds.toFixed(2)} s (each stage's median over ${RUNS} runs, ms, on the main thread; the pool scan runs on worker threads from the moment the page tables are found, so its stage is the wait for what remains of it):`,
      '',
      '| stage | ms |',
      '| --- | --- |',
      ...stageRows.discovery.map((t) => `| discovery: ${t.stage} | ${t.ms.toFixed(1)} |`),
      ...stageRows.analysis.map((t) => `| ${t.stage} | ${t.ms.toFixed(0)} |`),
    ].join('\n')
  : '(stages not measured: no 2 GiB image)';
const report = `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus} cores, median of ${RUNS} runs.\n\n${table}\n\n${targetTable}\n\n${stageTable}\n\n${diffTable}\n\n${hostileTable}\n\n${uiLine}\n`;
writeFileSync(join(CACHE, 'results.md'), report);
console.log(`\n${report}`);
