#!/usr/bin/env node
// npm start: builds the workbench when its sources are newer than the build, then opens the
// desktop app if an Electron binary is installed, or else says so in one line and serves the
// same workbench to the browser (web mode). Extra arguments are image paths (and --symbols DIR,
// --port N); --build-only stops after the build.
//
// The Electron binary is looked up without require('electron'): that call tries to download
// the binary when it is missing, which must not happen here.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'out');
const stamp = join(out, 'main', 'index.js');

function newestMtime(folder) {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const full = join(folder, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function buildIfNeeded() {
  const built =
    existsSync(stamp) &&
    existsSync(join(out, 'renderer', 'index.html')) &&
    existsSync(join(out, 'preload', 'index.cjs'));
  const sources = Math.max(
    newestMtime(join(root, 'src')),
    statSync(join(root, 'electron.vite.config.ts')).mtimeMs,
  );
  if (built && statSync(stamp).mtimeMs >= sources) return;
  process.stderr.write('Building the workbench…\n');
  const result = spawnSync(
    process.execPath,
    [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--logLevel', 'warn'],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (result.status !== 0) {
    process.stderr.write('The build failed (see above).\n');
    process.exit(result.status ?? 1);
  }
}

/** The Electron executable, or why there is none. */
function electronBinary() {
  const module = join(root, 'node_modules', 'electron');
  if (!existsSync(join(module, 'package.json'))) return { reason: 'the electron package is not installed' };
  const pathFile = join(module, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const binary = join(process.env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron');
    return existsSync(binary) ? { binary } : { reason: `no binary at ${binary}` };
  }
  if (!relative) return { reason: 'its binary was never downloaded' };
  const binary = join(module, 'dist', relative);
  return existsSync(binary) ? { binary } : { reason: `${binary} is missing` };
}

function openBrowser(url) {
  if (process.env.IRPSCOPE_NO_BROWSER === '1') return;
  const command =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No browser launcher: the address is printed above.
  }
}

function parseArgs(argv) {
  const images = [];
  let symbols;
  let port = 0;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--symbols') symbols = argv[++i];
    else if (argv[i] === '--port') port = Number(argv[++i]);
    else images.push(argv[i]);
  }
  return { images, symbols, port };
}

buildIfNeeded();
if (process.argv.includes('--build-only')) process.exit(0);
const args = process.argv.slice(2);
const electron = process.env.IRPSCOPE_WEB === '1' ? { reason: 'IRPSCOPE_WEB=1' } : electronBinary();
if (electron.binary) {
  const child = spawn(electron.binary, [root, ...args], { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  const { images, symbols, port } = parseArgs(args);
  const { startServer } = await import(pathToFileURL(join(out, 'main', 'server.js')).href);
  const server = await startServer({ images, symbols, port, openDemoIfEmpty: true });
  process.stdout.write(
    `Electron is not available here (${electron.reason}); starting the web workbench at ${server.url}\n`,
  );
  openBrowser(server.url);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
