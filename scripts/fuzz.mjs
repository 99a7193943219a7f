#!/usr/bin/env node
// The fuzz campaign: `npm run fuzz -- --minutes N` or `--inputs N` [--seed S] [--workers W]
// [--target T[,T…]] [--timeout SECONDS] [--summary FILE] [--resume]; `--plan FROM-TO` counts a
// range's inputs; `npm run fuzz -- --replay FILE` runs one saved crash again. The targets: open,
// discover, analyze, cli (mutated images; the mix when none is named), pe-headers, qmp-replies,
// case-files (mutated seeds of their own, see test/fuzz/seeds.ts).
// The campaign (test/fuzz/) is bundled with esbuild so that its worker threads run compiled code,
// and the CLI it also drives (out/node) is rebuilt first so that it is the current one.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = `${root}.cache/fuzz/bin`;
const built = spawnSync(process.execPath, [`${root}scripts/build-node.mjs`], { stdio: 'inherit', cwd: root });
if (built.status !== 0) process.exit(built.status ?? 1);
// The campaign drives its own copy of the CLI: a rebuild of out/node during a long run must not
// change (or half-write) the program under test.
rmSync(`${bin}/node`, { recursive: true, force: true });
cpSync(`${root}out/node`, `${bin}/node`, { recursive: true });
await build({
  entryPoints: { campaign: `${root}test/fuzz/campaign.ts`, worker: `${root}test/fuzz/worker.ts` },
  outdir: bin,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
const run = spawnSync(
  process.execPath,
  [
    '--enable-source-maps',
    `${bin}/campaign.mjs`,
    '--root',
    root,
    '--cli',
    `${bin}/node/cli.js`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', cwd: root },
);
process.exit(run.status ?? 1);
