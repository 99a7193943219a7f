#!/usr/bin/env node
// Runs the built CLI (out/node/cli.js, made by `npm run build:node`, which `npm ci` runs through
// `prepare`), or, in a checkout without a build, the TypeScript sources through tsx.
import module from 'node:module';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

// V8's code cache for the CLI's modules, kept between runs (Node 22.1 and later; Node 20 has none).
module.enableCompileCache?.();

const built = fileURLToPath(new URL('../out/node/cli.js', import.meta.url));
if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const result = spawnSync(process.execPath, ['--import', 'tsx', source, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(result.status ?? 1);
}
