// Every file IRPscope writes is written whole or not at all: to a temporary name beside the
// target, flushed to the disk, then renamed over it (a rename within one folder is atomic). A
// failure — a full disk, a size limit, a missing folder — removes the temporary file and leaves
// the old one. Output errors become one clear sentence.
//
// What may be replaced: a regular file, or nothing. A named pipe, a device (/dev/full), a socket
// or a folder is refused with what it is, and `checkOutputPath` says so before any work is done.
// A symbolic link to a regular file is followed: the file it names is replaced and the link
// stays, as a shell's `>` would write through it; a link to nothing or to anything else is
// refused.
//
// What may be removed: only what this process created, and never recursively. A writer killed
// mid-write leaves its temporary file (`.NAME.PID.HEX.tmp`); no other process guesses it is
// debris, because another program's file (a folder of evidence) can carry such a name.

import {
  closeSync,
  fchmodSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';

/** A file could not be written: the sentence says which and why, for a person. */
export class OutputError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'OutputError';
  }
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its path is not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EFBIG: 'the file would be larger than this file system or the size limit allows',
  EEXIST: 'a file of that name is in the way',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'its symbolic links form a loop',
};

export function outputError(path: string, error: unknown): OutputError {
  if (error instanceof OutputError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const reason = (code && REASONS[code]) ?? (error as Error).message ?? String(error);
  return new OutputError(`cannot write ${path}: ${reason}`, code);
}

function refused(path: string, reason: string): OutputError {
  return new OutputError(`cannot write ${path}: ${reason}`, undefined);
}

/** What a file-system object is, in words: "a named pipe (FIFO)". */
function kindOf(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** lstat, or null when nothing is there; any other failure is the sentence for `path`. */
function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw outputError(path, error);
  }
}

/** The folder a new entry at `path` would go into must exist and be a folder. */
function checkParent(path: string): void {
  let parent: Stats;
  try {
    parent = statSync(dirname(resolve(path)));
  } catch (error) {
    throw outputError(path, error);
  }
  if (!parent.isDirectory()) throw refused(path, REASONS.ENOTDIR!);
}

/**
 * Where `path` resolves to when it is a symbolic link, refused when it names nothing or does not
 * name `wanted` ('file' or 'folder').
 */
function followLink(path: string, wanted: 'file' | 'folder'): string {
  let target: string;
  try {
    target = realpathSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw outputError(path, error);
    const named = resolve(dirname(path), readlinkSync(path));
    throw refused(path, `it is a symbolic link to ${named}, which does not exist`);
  }
  const stats = statSync(target);
  const fits = wanted === 'file' ? stats.isFile() : stats.isDirectory();
  if (!fits)
    throw refused(
      path,
      `it is a symbolic link to ${kindOf(stats)}, not a ${wanted === 'file' ? 'regular file' : 'folder'}`,
    );
  return target;
}

/**
 * Refuses, in one sentence, an output path that is neither absent nor a regular file, or whose
 * folder does not exist; callers run it before the work that produces the file. Returns the path
 * to replace: `path` itself, or the regular file a symbolic link at `path` names.
 */
export function checkOutputPath(path: string): string {
  const stats = lstatOrNull(path);
  if (stats === null) {
    checkParent(path);
    return path;
  }
  if (stats.isSymbolicLink()) return followLink(path, 'file');
  if (stats.isDirectory()) throw refused(path, REASONS.EISDIR!);
  if (!stats.isFile()) throw refused(path, `it is ${kindOf(stats)}, not a regular file`);
  return path;
}

/**
 * Refuses a folder for a set of files (`names`, e.g. the CSV tables) that is not absent or a
 * folder, or that holds anything but regular files of those names: replacing the set replaces
 * the whole folder, and nothing else may go with it. Returns the folder to replace (a symbolic
 * link to a folder is followed).
 */
export function checkOutputFolder(folder: string, names: readonly string[]): string {
  const stats = lstatOrNull(folder);
  if (stats === null) {
    checkParent(folder);
    return folder;
  }
  const real = stats.isSymbolicLink() ? followLink(folder, 'folder') : folder;
  if (!stats.isSymbolicLink() && !stats.isDirectory())
    throw refused(folder, `it is ${kindOf(stats)}, not a folder`);
  const known = new Set(names);
  let entries: string[];
  try {
    entries = readdirSync(real);
  } catch (error) {
    throw outputError(folder, error);
  }
  const others = entries.filter((name) => !known.has(name) || !lstatSync(join(real, name)).isFile());
  if (others.length > 0)
    throw refused(
      folder,
      `it holds more than the tables (${others.sort().join(', ')}); give a new or empty folder`,
    );
  return real;
}

function tempName(path: string, suffix = 'tmp'): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.${suffix}`);
}

function syncFolder(folder: string): void {
  // Makes the rename durable; not every platform lets a folder be opened for it.
  try {
    const fd = openSync(folder, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Best effort.
  }
}

/** Cleaning up after a failure must not hide the failure. */
function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/**
 * Creates `path` (a name this process chose: it must not exist yet), writes and flushes `bytes`.
 * A failure after the file was created removes it; one before leaves whatever is there alone.
 */
function writeNewFile(path: string, bytes: Uint8Array, mode: number | null): void {
  const fd = openSync(path, 'wx', 0o644);
  try {
    if (mode !== null) fchmodSync(fd, mode);
    for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkQuietly(path);
    throw error;
  }
  closeSync(fd);
}

const bytesOf = (data: string | Uint8Array) => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

/** Writes `data` to `path` atomically (see above); throws OutputError. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const target = checkOutputPath(path);
  // A replaced file keeps its permissions: a report someone made private stays private.
  const existing = lstatOrNull(target);
  const temp = tempName(target);
  try {
    writeNewFile(temp, bytesOf(data), existing ? existing.mode & 0o7777 : null);
  } catch (error) {
    throw outputError(path, error);
  }
  try {
    // Once more just before the rename: a pipe or device put there meanwhile is not replaced.
    checkOutputPath(path);
    renameSync(temp, target);
  } catch (error) {
    unlinkQuietly(temp);
    throw outputError(path, error);
  }
  syncFolder(dirname(target));
}

/** Removes the named files of `folder`, then the folder if that emptied it (never recursively). */
function removeFiles(folder: string, names: readonly string[]): void {
  for (const name of names) unlinkQuietly(join(folder, name));
  try {
    rmdirSync(folder);
  } catch {
    // Something else was put in it: not ours to remove.
  }
}

/**
 * Writes a set of files as one unit (the CSV tables): the new set is built in a temporary folder
 * beside `folder`, then renamed into its place. A folder already there (holding only files of
 * those names, see checkOutputFolder) is renamed aside first and its files removed after, so a
 * reader, or a writer killed at any step, finds the complete old set or the complete new one —
 * never a mix; killed between the two renames, the folder is absent and the old set is complete
 * beside it under `.NAME.PID.HEX.old`.
 */
export function writeFolderAtomic(
  folder: string,
  files: ReadonlyArray<{ name: string; data: string | Uint8Array }>,
): void {
  const names = files.map((file) => file.name);
  const target = checkOutputFolder(folder, names);
  const staging = tempName(target);
  const written: string[] = [];
  try {
    mkdirSync(staging);
  } catch (error) {
    throw outputError(folder, error);
  }
  try {
    for (const file of files) {
      writeNewFile(join(staging, file.name), bytesOf(file.data), null);
      written.push(file.name);
    }
    syncFolder(staging);
    swapInto(staging, target, names);
  } catch (error) {
    removeFiles(staging, written);
    throw outputError(folder, error);
  }
  syncFolder(dirname(target));
}

/** Renames `staging` to `target`, replacing a folder of old files of `names` there (see above). */
function swapInto(staging: string, target: string, names: readonly string[]): void {
  try {
    renameSync(staging, target); // nothing there, or an empty folder
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
  const aside = tempName(target, 'old');
  renameSync(target, aside);
  try {
    renameSync(staging, target);
  } catch (error) {
    renameSync(aside, target);
    throw error;
  }
  // The old set, which the caller replaces; anything put there meanwhile stays, and with it the folder.
  removeFiles(aside, names);
}

/** Creates `folder` (and its parents) or says in one sentence why it cannot be. */
export function ensureFolder(folder: string): void {
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw outputError(folder, error);
  }
}

/**
 * A temporary name beside `path` for a file another process writes (QEMU writes its dump
 * itself). `path` is checked as checkOutputPath does, and the empty file is created here, so a
 * path that cannot take it fails now, in words. `commit` flushes it and renames it into place;
 * `discard` removes it.
 */
export function externalTemp(path: string): { temp: string; commit(): void; discard(): void } {
  const target = checkOutputPath(path);
  const temp = tempName(target);
  try {
    closeSync(openSync(temp, 'wx', 0o644));
  } catch (error) {
    throw outputError(path, error);
  }
  return {
    temp,
    commit() {
      try {
        const fd = openSync(temp, 'r+');
        try {
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        checkOutputPath(path);
        renameSync(temp, target);
        syncFolder(dirname(target));
      } catch (error) {
        unlinkQuietly(temp);
        throw outputError(path, error);
      }
    },
    discard() {
      unlinkQuietly(temp);
    },
  };
}
