#!/usr/bin/env node
// Bundles the Node-side entry points (CLI, worker threads) into out/node with esbuild. npm
// packages stay external (they are installed); worker files sit next to the CLI so that
// siblingWorker() finds them.
import { build } from 'esbuild';

await build({
  entryPoints: {
    cli: 'src/cli/main.ts',
    'scan-worker': 'src/core/scan/scan-worker.ts',
  },
  outdir: 'out/node',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
