// Images the workbench makes itself with the builder: the demo case (a clean system on one boot
// and the same system infected on a later boot, so the baseline comparison shows exactly the
// rootkit across moved addresses, paged-out names and devices that came and went) and practice
// images. Nothing is downloaded or shipped: they are generated into the data folder on first use.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PracticeImageRequest } from '../common/api';
import type { BuildImageOptions } from '../builder/index';
import { X86_PROFILES } from '../builder/layout/x86-profiles';
import { RequestError } from './validate';
import { startWorker } from './start-worker';
import type { BuilderReply } from './builder-worker';

export interface DemoSettings {
  profile: string;
  size: number;
  seed: number;
  format: BuildImageOptions['format'];
}

export const DEFAULT_DEMO: DemoSettings = {
  profile: 'win7-sp1-x86',
  size: 64 * 1024 * 1024,
  seed: 1,
  format: 'raw',
};

export interface DemoImage {
  scenario: 'clean' | 'infected';
  label: string;
  path: string;
  build: BuildImageOptions;
}

const IMAGE_FILE: Record<BuildImageOptions['format'], string> = {
  raw: 'image.raw',
  'dmp-full': 'image.dmp',
  'dmp-bitmap': 'image.dmp',
  vmware: 'image.vmem',
  elf: 'image.elf',
};

export function demoImages(dataDirectory: string, settings: DemoSettings = DEFAULT_DEMO): DemoImage[] {
  const folder = join(
    dataDirectory,
    'demo',
    `${settings.profile}-seed${settings.seed}-${settings.size / 1024 / 1024}M-boots`,
  );
  return (['infected', 'clean'] as const).map((scenario) => {
    const out = join(folder, scenario);
    return {
      scenario,
      label: scenario === 'infected' ? 'Demo: infected system' : 'Demo: clean baseline',
      path: join(out, IMAGE_FILE[settings.format]),
      build: {
        profile: settings.profile,
        format: settings.format,
        scenario,
        size: settings.size,
        seed: settings.seed,
        boot: scenario === 'clean' ? 1 : 2,
        out,
      },
    };
  });
}

/** Runs the builder in a worker thread; resolves with the image path. */
export function buildInWorker(options: BuildImageOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(import.meta.url, 'builder-worker', { workerData: options });
    let settled = false;
    worker.once('message', (reply: BuilderReply) => {
      settled = true;
      if (reply.ok) resolve(reply.image);
      else reject(new Error(reply.message));
      void worker.terminate();
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the image builder exited with code ${code}`));
    });
  });
}

/** Where the builder that made an image says who it was. */
const BUILDER_STAMP = 'builder-fingerprint';

function hashSources(hash: ReturnType<typeof createHash>, folder: string): void {
  for (const name of readdirSync(folder).sort()) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) hashSources(hash, path);
    else if (/\.[cm]?[jt]s$/.test(name)) hash.update(name).update(readFileSync(path));
  }
}

/**
 * Which builder this is: the bundled builder worker beside this code (its chunks' names carry
 * their contents' hashes), else, from the sources, every file of src/builder.
 */
export function builderFingerprint(callerUrl: string = import.meta.url): string {
  const here = dirname(fileURLToPath(callerUrl));
  const hash = createHash('sha256');
  const bundled = join(here, 'builder-worker.js');
  const sources = join(here, '..', 'builder');
  if (existsSync(bundled)) hash.update(readFileSync(bundled));
  else if (existsSync(sources)) hashSources(hash, sources);
  else hash.update(here);
  return hash.digest('hex').slice(0, 16);
}

let ownFingerprint: string | null = null;

/**
 * Builds the image unless a finished one made by this builder is already there (the builder moves
 * files in only when done). An image another builder made is made again: it may lack what this
 * builder plants, and the demo is meant to show what this version finds.
 */
export async function ensureImage(image: { path: string; build: BuildImageOptions }): Promise<string> {
  ownFingerprint ??= builderFingerprint();
  const stamp = join(image.build.out, BUILDER_STAMP);
  const stamped = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : null;
  if (existsSync(image.path) && existsSync(join(image.build.out, 'truth.json')) && stamped === ownFingerprint)
    return image.path;
  const built = await buildInWorker(image.build);
  writeFileSync(stamp, `${ownFingerprint}\n`);
  return built;
}

export function practiceBuild(
  request: PracticeImageRequest,
  dataDirectory: string,
): { options: BuildImageOptions; label: string; path: string } {
  const isf = request.isf ?? (request.symbolsDir ? firstIsf(request.symbolsDir) : undefined);
  const profile = isf ? undefined : (request.profile ?? DEFAULT_DEMO.profile);
  // Both name a folder in the data directory: only what the builder knows may get there.
  if (profile !== undefined && !(X86_PROFILES as readonly string[]).includes(profile))
    throw new RequestError(`unknown profile ${JSON.stringify(profile)}; known: ${X86_PROFILES.join(', ')}`);
  if (isf !== undefined && !/\.json(\.xz)?$/i.test(isf))
    throw new RequestError('isf must be a Volatility 3 symbol table (.json or .json.xz)');
  const seed = request.seed ?? Math.floor(Math.random() * 1_000_000);
  const what = profile ?? (isf ? isfLabel(isf) : 'image');
  const name = `${what.replace(/[^A-Za-z0-9._-]+/g, '-')}-${request.scenario}-${request.format}-seed${seed}`;
  const out = join(dataDirectory, 'practice', uniqueName(join(dataDirectory, 'practice'), name));
  const options: BuildImageOptions = {
    ...(isf ? { isf } : { profile }),
    format: request.format,
    scenario: request.scenario,
    ...(request.infections ? { infections: request.infections as BuildImageOptions['infections'] } : {}),
    size: request.size,
    seed,
    out,
  };
  return {
    options,
    label: `Practice: ${what} ${request.scenario}`,
    path: join(out, IMAGE_FILE[request.format]),
  };
}

function isfLabel(isf: string): string {
  const guid = (isf.split(/[\\/]/).pop() ?? 'isf').replace(/\.json(\.xz)?$/, '');
  return `x64 ${guid.slice(0, 8).replace(/[^A-Za-z0-9]/g, '_')}`;
}

function uniqueName(folder: string, name: string): string {
  if (!existsSync(join(folder, name))) return name;
  for (let n = 2; ; n++) if (!existsSync(join(folder, `${name}-${n}`))) return `${name}-${n}`;
}

/** The first kernel ISF under a Volatility-style symbol folder (windows/ntkrnlmp.pdb/*.json.xz). */
export function firstIsf(symbolsDir: string): string | undefined {
  for (const pdb of ['ntkrnlmp.pdb', 'ntoskrnl.pdb', 'ntkrnlpa.pdb', 'ntkrpamp.pdb']) {
    const folder = join(symbolsDir, 'windows', pdb);
    if (!existsSync(folder)) continue;
    const file = readdirSync(folder)
      .filter((f) => /\.json(\.xz)?$/.test(f))
      .sort()[0];
    if (file) return join(folder, file);
  }
  return undefined;
}

/** Kernel ISF files under a symbol folder, for the practice dialog. */
export function listIsfFiles(symbolsDir: string): string[] {
  const found: string[] = [];
  for (const pdb of ['ntkrnlmp.pdb', 'ntoskrnl.pdb', 'ntkrnlpa.pdb', 'ntkrpamp.pdb']) {
    const folder = join(symbolsDir, 'windows', pdb);
    if (!existsSync(folder)) continue;
    for (const f of readdirSync(folder).sort()) if (/\.json(\.xz)?$/.test(f)) found.push(join(folder, f));
  }
  return found;
}
