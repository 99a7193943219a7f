// The case lock: one holder at a time, in this process or another; a lock whose holder died, or
// that was created and never filled, is broken; a live one is waited for, and a wait that lasts
// too long ends with who holds it.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { CaseLockTimeout, withLock } from '../../../src/backend/cases/lock';

const folder = mkdtempSync(join(tmpdir(), 'irpscope-lock-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** The id of a process that has ended (so no process has it now, barring reuse within the test). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

test('holders in one process take turns: no two critical sections overlap', async () => {
  const lock = join(folder, 'turns.lock');
  let inside = 0;
  let most = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 8 }, (_, n) =>
      withLock(lock, async () => {
        inside++;
        most = Math.max(most, inside);
        await new Promise((resolve) => setImmediate(resolve));
        order.push(n);
        inside--;
      }),
    ),
  );
  expect(most).toBe(1);
  expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(existsSync(lock)).toBe(false);
});

test('a lock left by a process that died is broken', async () => {
  const lock = join(folder, 'dead.lock');
  writeFileSync(lock, JSON.stringify({ pid: deadPid(), host: hostname(), at: Date.now(), nonce: 'dead' }));
  expect(await withLock(lock, () => 'taken', { waitMs: 1000 })).toBe('taken');
  expect(existsSync(lock)).toBe(false);
});

test('a lock created and never filled is broken once it is old', async () => {
  const lock = join(folder, 'unfilled.lock');
  writeFileSync(lock, '');
  const old = new Date(Date.now() - 60_000);
  utimesSync(lock, old, old);
  expect(await withLock(lock, () => 'taken', { waitMs: 1000 })).toBe('taken');
});

test('a live holder is waited for; too long a wait says who holds the lock', async () => {
  const lock = join(folder, 'live.lock');
  // Another holder in this (live) process.
  writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now(), nonce: 'live' }));
  const error = await withLock(lock, () => 'taken', { waitMs: 200 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CaseLockTimeout);
  expect((error as Error).message).toMatch(new RegExp(`being written by process ${process.pid} on `));
  // Released while one waits: the waiter gets it.
  const waiting = withLock(lock, () => 'taken after the release', { waitMs: 10_000 });
  rmSync(lock);
  expect(await waiting).toBe('taken after the release');
});
