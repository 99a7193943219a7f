#!/usr/bin/env node
// npm run dist: the desktop packages (electron-builder.yml) in dist/. First it makes sure this
// machine has Electron's binary: electron-builder downloads Electron and its own tools (NSIS, the
// AppImage runtime, fpm, …) the same way npm's Electron install does, so where that binary could
// not be downloaded nothing can be packaged, and the script says so in one line before doing any
// work. Then it builds the app and the CLI from the sources as they are, and runs electron-builder
// for this platform (or for what the arguments say: `npm run dist -- --linux deb --arm64`), never
// publishing anything.
//
// The binary is looked up the way Electron's own index.js does (path.txt, or
// ELECTRON_OVERRIDE_DIST_PATH), without require('electron'), which would start a download.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** Electron's executable, or why there is none. */
function electronBinary() {
  const module = join(root, 'node_modules', 'electron');
  if (!existsSync(join(module, 'package.json'))) return { reason: 'the electron package is not installed' };
  const pathFile = join(module, 'path.txt');
  const executable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const binary = join(override, executable || 'electron');
    return existsSync(binary) ? { binary } : { reason: `ELECTRON_OVERRIDE_DIST_PATH has no ${binary}` };
  }
  if (!executable) return { reason: 'node_modules/electron/path.txt is missing: its download never ran' };
  const binary = join(module, 'dist', executable);
  return existsSync(binary) ? { binary } : { reason: `${relative(root, binary)} is missing` };
}

function run(label, script, args) {
  const result = spawnSync(process.execPath, [join(root, script), ...args], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`npm run dist: ${label} failed (see above)\n`);
    process.exit(result.status ?? 1);
  }
}

const electron = electronBinary();
if (!electron.binary) {
  process.stderr.write(
    `npm run dist: cannot package without Electron's binary (${electron.reason}); electron-builder downloads Electron and its packaging tools, so run it where \`npm ci\` could download Electron\n`,
  );
  process.exit(1);
}
run('the CLI build', 'scripts/build-node.mjs', []);
run('the app build', 'node_modules/electron-vite/bin/electron-vite.js', ['build', '--logLevel', 'warn']);
run('electron-builder', 'node_modules/electron-builder/cli.js', [
  '--publish',
  'never',
  ...process.argv.slice(2),
]);
