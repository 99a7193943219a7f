#!/usr/bin/env node
// npm run bench: speed and memory figures, measured in one run on this machine (not asserted).
// Builds its images once into .cache/bench (x64 Windows 10 2004 1 GiB and 4 GiB, x86 PAE 1 GiB,
// random fill; zero-filled sparse 1 GiB and 16 GiB for the memory-flatness check), then times
// `cat image > /dev/null` (warm cache) against `irpscope info` and `irpscope analyze`.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const CACHE = join(ROOT, '.cache/bench');
const ISF = join(ROOT, '../shared/isf/windows/ntkrnlmp.pdb/1C9875F76C8F0FBF3EB9A9D7C1C27406-1.json.xz');
const CLI = join(ROOT, 'out/node/cli.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

mkdirSync(CACHE, { recursive: true });
execFileSync('npm', ['run', '--silent', 'build:node'], { cwd: ROOT, stdio: 'inherit' });

const images = [
  { label: 'x64 Windows 10 2004, 1 GiB, random', args: ['--isf', ISF, '--size', '1G'], analyze: true },
  {
    label: 'x64 Windows 10 2004, 4 GiB, random',
    args: ['--isf', ISF, '--size', '4G'],
    analyze: true,
    timeBuild: true,
  },
  {
    label: 'x86 Windows 7 SP1 PAE, 1 GiB, random',
    args: ['--profile', 'win7-sp1-x86-pae', '--size', '1G'],
    analyze: true,
  },
  {
    label: 'x64 Windows 10 2004, 1 GiB, zero (sparse)',
    args: ['--isf', ISF, '--size', '1G', '--fill', 'zero'],
    analyze: false,
  },
  {
    label: 'x64 Windows 10 2004, 16 GiB, zero (sparse)',
    args: ['--isf', ISF, '--size', '16G', '--fill', 'zero'],
    analyze: false,
  },
];

/** Runs a command under /usr/bin/time; returns wall seconds and peak RSS in MiB. */
function measure(command, args) {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M', command, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  const [seconds, kib] = result.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { seconds, rssMiB: kib / 1024, stdout: result.stdout };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const rows = [];
for (const image of images) {
  const directory = join(
    CACHE,
    image.args
      .join('_')
      .replace(/[^A-Za-z0-9_.-]+/g, '-')
      .slice(-80),
  );
  const path = join(directory, 'image.raw');
  let buildSeconds = null;
  if (!existsSync(path)) {
    process.stderr.write(`building ${image.label}…\n`);
    const built = measure('node', [
      '--import',
      'tsx',
      join(ROOT, 'src/builder/cli.ts'),
      ...image.args,
      '--format',
      'raw',
      '--scenario',
      'infected',
      '--seed',
      '1',
      '--out',
      directory,
    ]);
    buildSeconds = built.seconds;
  }
  measure('sh', ['-c', `cat '${path}' > /dev/null`]); // warm the page cache
  const cat = median(
    Array.from({ length: RUNS }, () => measure('sh', ['-c', `cat '${path}' > /dev/null`]).seconds),
  );
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
  }
  rows.push(row);
  console.log(JSON.stringify(row));
}

const header = ['image', 'file (GiB)', 'build', 'cat (warm)', 'info', 'analyze', 'analyze / cat'];
const table = [
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...rows.map((r) => `| ${[r.image, r.fileGiB, r.build, r.cat, r.info, r.analyze, r.ratio].join(' | ')} |`),
].join('\n');
const cpus = execFileSync('nproc', { encoding: 'utf8' }).trim();
// The workbench's responsiveness while the 4 GiB image is analysed (needs Debian's Chromium).
const ui = spawnSync('node', [join(ROOT, 'scripts/bench-ui.mjs')], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const uiLine =
  ui.status === 0 ? ui.stdout.trim().split('\n').pop() : '(workbench responsiveness not measured: see above)';
const report = `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus} cores, median of ${RUNS} runs.\n\n${table}\n\n${uiLine}\n`;
writeFileSync(join(CACHE, 'results.md'), report);
console.log(`\n${report}`);
