#!/usr/bin/env node
// Bundles the Node-side entry points (CLI, worker threads) into out/node with esbuild. npm
// packages stay external (they are installed); worker files sit next to the CLI so that
// siblingWorker() finds them. Code split: what a command loads when it runs (`import()`) is a
// chunk of its own, so --version and --help do not load the engine.
import { build } from 'esbuild';

await build({
  entryPoints: {
    cli: 'src/cli/main.ts',
    'scan-worker': 'src/core/node/scan/scan-worker.ts',
    // Web mode (`irpscope serve`): the backend's worker threads and the engine they load.
    'session-worker': 'src/backend/session-worker.ts',
    'builder-worker': 'src/backend/builder-worker.ts',
    engine: 'src/core/node/engine.ts',
  },
  outdir: 'out/node',
  bundle: true,
  splitting: true,
  chunkNames: '[name]-[hash]',
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
