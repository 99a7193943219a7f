// The images a submit names: files as given, and the memory images found in folders (by their
// extension, recursively). Everything named must be there and readable before anything is
// enqueued: a missing image is one clear error, not a fleet half-submitted.

import { accessSync, constants, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { FleetError } from './errors';

/** What a folder's files must end in to be taken as memory images. */
export const IMAGE_EXTENSIONS = [
  '.raw',
  '.mem',
  '.dmp',
  '.vmem',
  '.vmss',
  '.vmsn',
  '.elf',
  '.core',
  '.lime',
  '.img',
  '.bin',
  '.dd',
] as const;

const MAX_DEPTH = 8;

export interface NamedImage {
  /** Absolute path. */
  image: string;
  label: string;
}

function statOrFail(path: string): Stats {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FleetError(
      code === 'ENOENT'
        ? `cannot read ${path}: no such file or folder`
        : `cannot read ${path}: ${code ?? (error as Error).message}`,
    );
  }
}

function requireReadable(path: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new FleetError(`cannot read ${path}: permission denied`);
  }
}

const isImageName = (name: string): boolean =>
  IMAGE_EXTENSIONS.some((ext) => name.toLowerCase().endsWith(ext));

/** A VMware state file is opened through its .vmem when one is beside it: one image, not two. */
function isCompanion(name: string, names: ReadonlySet<string>): boolean {
  const match = /^(.*)\.(vmss|vmsn)$/i.exec(name);
  return (
    match !== null && [...names].some((other) => other.toLowerCase() === `${match[1]}.vmem`.toLowerCase())
  );
}

/** Images under `folder`; symbolic links are followed, each real folder visited once. */
function imagesInFolder(folder: string, depth = 0, visited = new Set<string>()): string[] {
  if (depth > MAX_DEPTH) return [];
  const real = realpathSync(folder);
  if (visited.has(real)) return [];
  visited.add(real);
  let entries;
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch (error) {
    throw new FleetError(`cannot read ${folder}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const names = new Set(entries.map((e) => e.name));
  const found: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(folder, entry.name);
    const stats = entry.isSymbolicLink() ? statSync(path, { throwIfNoEntry: false }) : entry;
    if (stats?.isDirectory()) found.push(...imagesInFolder(path, depth + 1, visited));
    else if (stats?.isFile() && isImageName(entry.name) && !isCompanion(entry.name, names)) found.push(path);
  }
  return found;
}

const posix = (path: string): string => path.split(sep).join('/');

/**
 * The images named by `args` (files and folders), without the baselines, each with the label the
 * report gives it: its path under the folder it was found in, else its file name (with its
 * folder's name when two share one).
 */
export function collectImages(args: readonly string[], exclude: readonly string[] = []): NamedImage[] {
  const excluded = new Set(exclude.map((p) => resolve(p)));
  const byPath = new Map<string, string>();
  const files: string[] = [];
  for (const arg of args) {
    const path = resolve(arg);
    const stats = statOrFail(path);
    if (stats.isDirectory()) {
      const images = imagesInFolder(path);
      if (images.length === 0)
        throw new FleetError(`no memory image in ${arg} (looked for ${IMAGE_EXTENSIONS.join(' ')})`);
      for (const image of images) if (!byPath.has(image)) byPath.set(image, posix(relative(path, image)));
    } else if (stats.isFile()) {
      requireReadable(path);
      files.push(path);
    } else throw new FleetError(`cannot read ${arg}: not a file or folder`);
  }
  const baseNames = new Map<string, number>();
  for (const file of files) baseNames.set(basename(file), (baseNames.get(basename(file)) ?? 0) + 1);
  for (const file of files) {
    if (byPath.has(file)) continue;
    const name = basename(file);
    byPath.set(file, baseNames.get(name)! > 1 ? `${basename(dirname(file))}/${name}` : name);
  }
  for (const path of excluded) byPath.delete(path);
  for (const image of byPath.keys()) requireReadable(image);
  const labels = new Set<string>();
  const named = [...byPath].map(([image, label]) => {
    // Two files can still end up with one label (a/x/i.raw and b/x/i.raw given as files).
    const unique = labels.has(label) ? posix(image) : label;
    labels.add(unique);
    return { image, label: unique };
  });
  return named.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

/** Each baseline must be a readable file. */
export function checkBaselines(paths: readonly string[]): NamedImage[] {
  return paths.map((arg) => {
    const path = resolve(arg);
    const stats = statOrFail(path);
    if (!stats.isFile()) throw new FleetError(`cannot use ${arg} as a baseline: not a file`);
    requireReadable(path);
    return { image: path, label: posix(arg) };
  });
}
