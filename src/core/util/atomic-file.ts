// Every file IRPscope writes is written whole or not at all: to a temporary name beside the
// target, flushed to the disk, then renamed over it (a rename within one folder is atomic). A
// failure — a full disk, a size limit, a missing folder — removes the temporary file and leaves
// the old one; a writer killed mid-write leaves its temporary file behind, and the next write to
// that folder removes it (its process is gone). Output errors become one clear sentence.

import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

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
};

export function outputError(path: string, error: unknown): OutputError {
  if (error instanceof OutputError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const reason = (code && REASONS[code]) ?? (error as Error).message ?? String(error);
  return new OutputError(`cannot write ${path}: ${reason}`, code);
}

const TEMP = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes what writers killed mid-write left in `folder`. */
export function removeDebris(folder: string): void {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) {
    const match = TEMP.exec(name);
    if (match && !alive(Number(match[2]))) removeQuietly(join(folder, name));
  }
}

/** Cleaning up after a failure must not hide the failure. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // Nothing was created there (the path runs through a file, or the folder is gone).
  }
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
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

/** Writes `data` to `path` atomically (see above); throws OutputError. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const folder = dirname(path);
  removeDebris(folder);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const temp = tempName(path);
  let fd: number | null = null;
  try {
    fd = openSync(temp, 'wx', 0o644);
    for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(temp, path);
    syncFolder(folder);
  } catch (error) {
    if (fd !== null) closeSync(fd);
    removeQuietly(temp);
    throw outputError(path, error);
  }
}

/**
 * Writes a folder of files: a new folder is built under a temporary name and renamed into place
 * whole; into a folder that exists, each file is written atomically.
 */
export function writeFolderAtomic(
  folder: string,
  files: ReadonlyArray<{ name: string; data: string | Uint8Array }>,
): void {
  let exists = false;
  try {
    exists = statSync(folder).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw outputError(folder, error);
  }
  if (exists) {
    for (const file of files) writeFileAtomic(join(folder, file.name), file.data);
    return;
  }
  const parent = dirname(folder);
  removeDebris(parent);
  let temp: string | null = null;
  try {
    temp = tempName(folder);
    mkdirSync(temp);
    for (const file of files) writeFileAtomic(join(temp, file.name), file.data);
    renameSync(temp, folder);
    temp = null;
    syncFolder(parent);
  } catch (error) {
    if (temp !== null) removeQuietly(temp);
    throw outputError(folder, error);
  }
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
 * itself). The empty file is created here, so a folder that cannot take it fails now, in words.
 * `commit` flushes it and renames it into place; `discard` removes it.
 */
export function externalTemp(path: string): { temp: string; commit(): void; discard(): void } {
  const folder = dirname(path);
  removeDebris(folder);
  const temp = tempName(path);
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
        renameSync(temp, path);
        syncFolder(folder);
      } catch (error) {
        removeQuietly(temp);
        throw outputError(path, error);
      }
    },
    discard() {
      removeQuietly(temp);
    },
  };
}
