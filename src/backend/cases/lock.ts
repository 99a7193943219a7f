// One writer at a time on a case, across processes: a lock file created with O_EXCL beside the
// case folder, holding who took it. Every read-merge-write of a case happens under it. A lock
// whose holder died (its process is gone from this host, it is older than any save takes, or it
// was created and never filled) is broken: renamed away, checked to be the dead one, removed.

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';

/** No save holds a lock this long; a lock older than this was left by a writer that hung or died. */
const STALE_MS = 120_000;
const WAIT_MS = 30_000;
const UNFILLED_MS = 10_000;

interface Holder {
  pid: number;
  host: string;
  at: number;
  nonce: string;
}

/** The case stayed locked by another writer for longer than any save takes. */
export class CaseLockTimeout extends Error {
  constructor(path: string, holder: Holder | null) {
    super(
      holder
        ? `the case is being written by process ${holder.pid} on ${holder.host} (locked ${new Date(holder.at).toISOString()}); try again`
        : `the case's lock ${path} cannot be taken; try again`,
    );
    this.name = 'CaseLockTimeout';
  }
}

/** Runs `work` holding the lock file at `path`; the lock goes when `work` settles. */
export async function withLock<T>(
  path: string,
  work: () => Promise<T> | T,
  options: { waitMs?: number } = {},
): Promise<T> {
  const nonce = await acquire(path, options.waitMs ?? WAIT_MS);
  try {
    return await work();
  } finally {
    release(path, nonce);
  }
}

async function acquire(path: string, waitMs: number): Promise<string> {
  const deadline = Date.now() + waitMs;
  let pause = 2;
  for (;;) {
    const nonce = tryCreate(path);
    if (nonce) return nonce;
    const lock = readLock(path);
    if (lock && isStale(lock)) {
      breakStale(path, lock.raw);
      continue;
    }
    if (Date.now() > deadline) throw new CaseLockTimeout(path, lock?.holder ?? null);
    // Saves take milliseconds: poll often at first, then less.
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 50);
  }
}

/** The new lock's nonce, or null when another holds it. */
function tryCreate(path: string): string | null {
  const holder: Holder = {
    pid: process.pid,
    host: hostname(),
    at: Date.now(),
    nonce: randomBytes(8).toString('hex'),
  };
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(holder));
  } finally {
    closeSync(fd);
  }
  return holder.nonce;
}

interface Lock {
  raw: string;
  /** Null while the holder is between creating and filling it, or when it died there. */
  holder: Holder | null;
  mtimeMs: number;
}

/** The lock as it is now, or null when there is none. */
function readLock(path: string): Lock | null {
  let raw: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
    raw = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  return { raw, holder: holderIn(raw), mtimeMs };
}

function holderIn(raw: string): Holder | null {
  try {
    const value = JSON.parse(raw) as Partial<Holder>;
    if (
      typeof value.pid === 'number' &&
      typeof value.host === 'string' &&
      typeof value.at === 'number' &&
      typeof value.nonce === 'string'
    )
      return value as Holder;
  } catch {
    // Empty or torn: see isStale.
  }
  return null;
}

function isStale(lock: Lock): boolean {
  const holder = lock.holder;
  // An unfilled lock is filled within microseconds of its creation, unless its writer died.
  if (!holder) return Date.now() - lock.mtimeMs > UNFILLED_MS;
  if (Date.now() - holder.at > STALE_MS) return true;
  return holder.host === hostname() && !alive(holder.pid);
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes a dead holder's lock. It is first renamed to a name of this breaker's own, so two
 * breakers cannot both remove it; if what was renamed is not the dead one (a live lock taken
 * meanwhile), it goes back.
 */
function breakStale(path: string, staleRaw: string): void {
  const aside = `${path}.broken-${randomBytes(6).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // another breaker was first
  }
  let renamed: string | null;
  try {
    renamed = readFileSync(aside, 'utf8');
  } catch {
    renamed = null;
  }
  if (renamed !== staleRaw) {
    try {
      linkSync(aside, path);
    } catch {
      // A new lock is already there.
    }
  }
  rmSync(aside, { force: true });
}

function release(path: string, nonce: string): void {
  const lock = readLock(path);
  if (lock?.holder?.nonce === nonce) rmSync(path, { force: true });
}
