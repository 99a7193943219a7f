// The test-image builder as a library: one call lays out a Windows kernel in memory, writes it
// in the requested container format and writes truth.json beside it.

import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BuildError } from './errors';
import type { KernelLayout } from './layout/kernel-layout';
import { layoutFromIsfFile } from './layout/from-isf';
import { layoutFromX86Profile } from './layout/x86-profiles';
import type { FillMode } from './memory/fill';
import { Rng } from './rng';
import type { Truth } from './truth';
import { guidText } from './windows/pe';
import { DEFAULT_INFECTIONS, INFECTIONS, type Infection } from './windows/rootkit';
import { buildSystem } from './windows/system';
import { writeBitmapDump, writeFullDump } from './writers/crashdump';
import { writeElf } from './writers/elf';
import { writeRaw } from './writers/raw';
import { writeVmware } from './writers/vmware';

export const FORMATS = ['raw', 'dmp-full', 'dmp-bitmap', 'vmware', 'elf'] as const;
export type ImageFormat = (typeof FORMATS)[number];
export { DEFAULT_INFECTIONS, INFECTIONS, type Infection, BuildError, type Truth };
export { X86_PROFILES } from './layout/x86-profiles';

export const MIN_SIZE = 64 * 1024 * 1024;
export const MAX_SIZE = 16 * 1024 * 1024 * 1024;

export interface BuildImageOptions {
  /** A Volatility 3 ISF file (x64 kernels) ... */
  isf?: string;
  /** ... or one of the x86 fact-sheet profiles. */
  profile?: string;
  /**
   * The build the image claims. For an ISF whose PDB the builder does not know and whose layout
   * does not settle its build, the ISF's own build. For an ISF of another build, the image claims
   * this build everywhere while laying out the ISF's structures, under a synthetic PDB identity.
   * With `future` (x64), the future build (default 26100).
   */
  build?: number;
  /**
   * A kernel no layout table describes: x64, a build newer than 22000 built from the 22000 ISF
   * with EPROCESS, ETHREAD and KTHREAD fields moved (layout/future.ts); x86, a later update of
   * the profile's build with the same moves. truth.layout records every move.
   */
  future?: boolean;
  format: ImageFormat;
  scenario: 'clean' | 'infected';
  /** Which anomalies the infected scenario plants (default: all). */
  infections?: readonly Infection[];
  size: number;
  seed: string | number;
  /**
   * Which boot of the seed's system (default 1): another boot moves every address, pages out
   * other pages, numbers PnP devices in another order and has other transient devices.
   */
  boot?: number;
  fill?: FillMode;
  /** x64: include the PROCESSOR_START_BLOCK low stub (default true). */
  lowStub?: boolean;
  out: string;
}

export interface BuildImageResult {
  directory: string;
  image: string;
  files: string[];
  truth: Truth;
}

const FILE_NAMES: Record<ImageFormat, string[]> = {
  raw: ['image.raw'],
  'dmp-full': ['image.dmp'],
  'dmp-bitmap': ['image.dmp'],
  vmware: ['image.vmem', 'image.vmss'],
  elf: ['image.elf'],
};

export function resolveLayout(
  options: Pick<BuildImageOptions, 'isf' | 'profile' | 'build' | 'future' | 'seed'>,
): KernelLayout {
  if (options.isf && options.profile) throw new BuildError('give either --isf or --profile, not both');
  if (
    options.build !== undefined &&
    (!Number.isSafeInteger(options.build) || options.build < 2195 || options.build > 65535)
  )
    throw new BuildError(`--build must be a Windows build number (got ${options.build})`);
  if (options.isf) return layoutFromIsfFile(options.isf, { build: options.build, future: options.future });
  if (options.profile) {
    if (options.build !== undefined)
      throw new BuildError('--build applies to --isf; an x86 --profile names its own build');
    // No real x86 PDB identity is available: a stable synthetic GUID per profile (another for its
    // future update), marked as such in the truth.
    const guid = guidText(new Rng(`pdb/${options.profile}${options.future ? '/future' : ''}`).guid());
    return layoutFromX86Profile(options.profile, guid, options.future ?? false);
  }
  throw new BuildError('give --isf <file.json.xz> or --profile <name>');
}

function validate(options: BuildImageOptions): void {
  if (!(FORMATS as readonly string[]).includes(options.format)) {
    throw new BuildError(`unknown --format ${JSON.stringify(options.format)}; known: ${FORMATS.join(', ')}`);
  }
  if (options.scenario !== 'clean' && options.scenario !== 'infected') {
    throw new BuildError(`unknown --scenario ${JSON.stringify(options.scenario)}; use clean or infected`);
  }
  if (!Number.isSafeInteger(options.size) || options.size < MIN_SIZE || options.size > MAX_SIZE) {
    throw new BuildError(`--size must be between 64M and 16G (got ${options.size})`);
  }
  if (options.size % 0x100000 !== 0) throw new BuildError('--size must be a whole number of MiB');
  const boot = options.boot ?? 1;
  if (!Number.isSafeInteger(boot) || boot < 1 || boot > 1_000_000)
    throw new BuildError(`--boot must be a whole number from 1 (got ${options.boot})`);
  for (const infection of options.infections ?? []) {
    if (!(INFECTIONS as readonly string[]).includes(infection)) {
      throw new BuildError(`unknown infection ${JSON.stringify(infection)}; known: ${INFECTIONS.join(', ')}`);
    }
  }
}

/** Builds the image into a private folder next to `out`, then moves the finished files in. */
export function buildImage(options: BuildImageOptions): BuildImageResult {
  validate(options);
  const layout = resolveLayout(options);
  const out = resolve(options.out);
  const existed = existsSync(out);
  try {
    // Node's recursive mkdir never returns on some pseudo file systems (/proc): only recurse when needed.
    if (!existed) mkdirSync(out, { recursive: !existsSync(dirname(out)) });
    if (!statSync(out).isDirectory()) throw new Error('not a directory');
  } catch (error) {
    throw new BuildError(
      `cannot write to --out ${out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  let work: string;
  try {
    work = mkdtempSync(join(dirname(out), `.${basename(out)}.partial-`));
  } catch (error) {
    throw new BuildError(
      `cannot write to --out ${out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    const fill = options.fill ?? 'random';
    const system = buildSystem({
      layout,
      ramBytes: options.size,
      seed: String(options.seed),
      fill,
      scenario: options.scenario,
      infections: new Set(options.scenario === 'infected' ? (options.infections ?? DEFAULT_INFECTIONS) : []),
      lowStub: options.lowStub ?? true,
      boot: options.boot ?? 1,
      format: options.format,
      source: options.isf ? basename(options.isf) : `profile ${options.profile}`,
      requested: { build: options.build ?? null, future: options.future ?? false },
    });
    const sparse = fill === 'zero';
    const names = FILE_NAMES[options.format];
    const paths = names.map((n) => join(work, n));
    switch (options.format) {
      case 'raw':
        writeRaw(system, paths[0]!, sparse);
        break;
      case 'dmp-full':
        writeFullDump(system, paths[0]!, sparse);
        break;
      case 'dmp-bitmap':
        writeBitmapDump(system, paths[0]!, sparse);
        break;
      case 'vmware':
        writeVmware(system, paths[0]!, paths[1]!, sparse);
        break;
      case 'elf':
        writeElf(system, paths[0]!, sparse);
        break;
    }
    writeFileSync(join(work, 'truth.json'), `${JSON.stringify(system.truth, null, 2)}\n`);
    const files = [...names, 'truth.json'];
    // On the disk before they take their names: a crash leaves the old files or the new, whole.
    for (const name of files) {
      const fd = openSync(join(work, name), 'r');
      fsyncSync(fd);
      closeSync(fd);
    }
    for (const name of files) renameSync(join(work, name), join(out, name));
    return {
      directory: out,
      image: join(out, names[0]!),
      files: files.map((n) => join(out, n)),
      truth: system.truth,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (!existed && readdirSync(out).length === 0) rmSync(out, { recursive: true, force: true });
  }
}

/** "64M", "1G", "1073741824" → bytes. */
export function parseSize(text: string): number {
  const match = /^(\d+)([KMG]?)(i?B)?$/i.exec(text.trim());
  if (!match) throw new BuildError(`--size ${JSON.stringify(text)} is not a size (e.g. 256M, 4G)`);
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[
    match[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'
  ];
  return Number(match[1]) * unit;
}
