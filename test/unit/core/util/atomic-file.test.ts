// Files are written whole or not at all: a failure (a size limit, a missing folder) leaves the old
// file and no temporary one; a writer killed mid-write leaves the old file. Only a regular file (or
// nothing) is ever replaced, and only what this process created is ever removed. A folder of
// tables is one unit: killed at any step, the folder is the old set or the new one, never a mix.

import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import {
  OutputError,
  checkOutputFolder,
  checkOutputPath,
  writeFileAtomic,
  writeFolderAtomic,
} from '../../../../src/core/node/util/atomic-file';

const folder = mkdtempSync(join(tmpdir(), 'irpscope-atomic-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const MODULE = fileURLToPath(new URL('../../../../src/core/node/util/atomic-file.ts', import.meta.url));
// Where tsx resolves from.
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const temporaries = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp'));

/** A separate Node process that writes `megabytes` of 'n' to `path` with writeFileAtomic. */
function writer(path: string, megabytes: number, shell = '') {
  const script = join(folder, `writer-${megabytes}.mts`);
  writeFileSync(
    script,
    `import { writeFileAtomic } from ${JSON.stringify(MODULE)};
try {
  writeFileAtomic(${JSON.stringify(path)}, Buffer.alloc(${megabytes} * 1048576, 110));
} catch (e) {
  process.stderr.write((e as Error).message);
  process.exit(2);
}
`,
  );
  return `${shell}${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(script)}`;
}

/** The id of a process that has exited (its temporary files are nobody's to remove but its own). */
function deadPid(): number {
  const run = spawnSync(process.execPath, ['-e', '']);
  return run.pid;
}

test('replaces the file and leaves nothing else', () => {
  const path = join(folder, 'report.html');
  writeFileSync(path, 'old');
  writeFileAtomic(path, 'new');
  expect(readFileSync(path, 'utf8')).toBe('new');
  expect(temporaries(folder)).toEqual([]);
});

test('a replaced file keeps its permissions (a report made private stays private)', () => {
  const path = join(folder, 'private.html');
  writeFileSync(path, 'old', { mode: 0o600 });
  writeFileAtomic(path, 'new');
  expect(statSync(path).mode & 0o777).toBe(0o600);
});

test('a folder that does not exist: one sentence, nothing written', () => {
  const path = join(folder, 'missing', 'report.html');
  expect(() => writeFileAtomic(path, 'x')).toThrow(OutputError);
  expect(() => writeFileAtomic(path, 'x')).toThrow(`cannot write ${path}: its folder does not exist`);
  // Said before any work is done.
  expect(() => checkOutputPath(path)).toThrow(`cannot write ${path}: its folder does not exist`);
});

test('over the size limit (as on a full disk): the old file stays, no temporary file', () => {
  const path = join(folder, 'big.json');
  writeFileSync(path, 'the previous report');
  const run = spawnSync('bash', ['-c', writer(path, 4, 'ulimit -f 1024; ')], { encoding: 'utf8', cwd: ROOT });
  expect(run.status).toBe(2);
  expect(run.stderr).toBe(
    `cannot write ${path}: the file would be larger than this file system or the size limit allows`,
  );
  expect(readFileSync(path, 'utf8')).toBe('the previous report');
  expect(temporaries(folder)).toEqual([]);
});

test('a writer killed mid-write leaves the old file; its temporary file is left for no one else to remove', async () => {
  const own = mkdtempSync(join(folder, 'killed-'));
  const path = join(own, 'case.json');
  writeFileSync(path, 'the previous case');
  const child = spawn('bash', ['-c', `exec ${writer(path, 400)}`], { stdio: 'ignore', cwd: ROOT });
  // Wait until the temporary file is being written, then kill the writer.
  const deadline = Date.now() + 30_000;
  while (!temporaries(own).some((n) => statSync(join(own, n)).size > 0)) {
    if (Date.now() > deadline) throw new Error('the writer never started');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  expect(readFileSync(path, 'utf8')).toBe('the previous case');
  const left = temporaries(own);
  expect(left.length).toBe(1);
  writeFileAtomic(join(own, 'other.txt'), 'x');
  expect(temporaries(own)).toEqual(left);
});

test("never removes another process's files, even named like a dead writer's temporary file", () => {
  const own = mkdtempSync(join(folder, 'others-'));
  const pid = deadPid();
  // A folder of evidence and a file another program left under names of our pattern.
  const evidence = join(own, `.case.${pid}.0123abcd.tmp`);
  mkdirSync(evidence);
  writeFileSync(join(evidence, 'memory.raw'), 'evidence');
  const stray = join(own, `.report.html.${pid}.89abcdef.tmp`);
  writeFileSync(stray, "another program's file");
  writeFileAtomic(join(own, 'report.html'), 'x');
  writeFolderAtomic(join(own, 'tables'), [{ name: 'drivers.csv', data: 'a' }]);
  expect(readFileSync(join(evidence, 'memory.raw'), 'utf8')).toBe('evidence');
  expect(readFileSync(stray, 'utf8')).toBe("another program's file");
});

describe('only a regular file, or nothing, is replaced', () => {
  const special = mkdtempSync(join(folder, 'special-'));

  test('a named pipe: refused with the reason before any work, and left a pipe', () => {
    const fifo = join(special, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const reason = `cannot write ${fifo}: it is a named pipe (FIFO), not a regular file`;
    expect(() => checkOutputPath(fifo)).toThrow(reason);
    expect(() => writeFileAtomic(fifo, 'x')).toThrow(reason);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(temporaries(special)).toEqual([]);
  });

  test('a character device (as /dev/full): refused, and left a device', (context) => {
    const device = join(special, 'full');
    // Making a device node needs root (or CAP_MKNOD); /dev/full itself is not ours to risk.
    if (spawnSync('mknod', [device, 'c', '1', '7']).status !== 0) context.skip();
    const reason = `cannot write ${device}: it is a character device, not a regular file`;
    expect(() => checkOutputPath(device)).toThrow(reason);
    expect(() => writeFileAtomic(device, 'x')).toThrow(reason);
    expect(lstatSync(device).isCharacterDevice()).toBe(true);
  });

  test('a folder: refused', () => {
    expect(() => writeFileAtomic(special, 'x')).toThrow(`cannot write ${special}: it is a folder`);
    expect(statSync(special).isDirectory()).toBe(true);
  });

  test('a symbolic link to a regular file: the file it names is replaced, the link stays', () => {
    const target = join(special, 'target.html');
    const link = join(special, 'link.html');
    writeFileSync(target, 'old');
    symlinkSync(target, link);
    expect(checkOutputPath(link)).toBe(target);
    writeFileAtomic(link, 'new');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('new');
  });

  test('a symbolic link to nothing, or to a pipe: refused, the link left', () => {
    const dangling = join(special, 'dangling.html');
    symlinkSync(join(special, 'nowhere.html'), dangling);
    expect(() => writeFileAtomic(dangling, 'x')).toThrow(
      `cannot write ${dangling}: it is a symbolic link to ${join(special, 'nowhere.html')}, which does not exist`,
    );
    const fifo = join(special, 'pipe-for-link');
    spawnSync('mkfifo', [fifo]);
    const toFifo = join(special, 'to-fifo');
    symlinkSync(fifo, toFifo);
    expect(() => writeFileAtomic(toFifo, 'x')).toThrow(
      `cannot write ${toFifo}: it is a symbolic link to a named pipe (FIFO), not a regular file`,
    );
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
    expect(existsSync(join(special, 'nowhere.html'))).toBe(false);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  test('a folder of tables: not a folder, or a folder holding other things, is refused before any work', () => {
    const fifo = join(special, 'tables-pipe');
    spawnSync('mkfifo', [fifo]);
    expect(() => checkOutputFolder(fifo, ['drivers.csv'])).toThrow(
      `cannot write ${fifo}: it is a named pipe (FIFO), not a folder`,
    );
    expect(() => writeFolderAtomic(fifo, [{ name: 'drivers.csv', data: 'x' }])).toThrow(/named pipe/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    const file = join(special, 'tables-file');
    writeFileSync(file, 'x');
    expect(() => checkOutputFolder(file, ['drivers.csv'])).toThrow(
      `cannot write ${file}: it is a regular file, not a folder`,
    );
    const mixed = join(special, 'mixed');
    mkdirSync(join(mixed, 'evidence'), { recursive: true });
    writeFileSync(join(mixed, 'drivers.csv'), 'old');
    writeFileSync(join(mixed, 'notes.txt'), 'mine');
    const reason = `cannot write ${mixed}: it holds more than the tables (evidence, notes.txt); give a new or empty folder`;
    expect(() => checkOutputFolder(mixed, ['drivers.csv'])).toThrow(reason);
    expect(() => writeFolderAtomic(mixed, [{ name: 'drivers.csv', data: 'new' }])).toThrow(reason);
    expect(readdirSync(mixed).sort()).toEqual(['drivers.csv', 'evidence', 'notes.txt']);
    expect(readFileSync(join(mixed, 'drivers.csv'), 'utf8')).toBe('old');
  });
});

describe('a folder of tables is one unit', () => {
  const OLD = [
    { name: 'drivers.csv', data: 'old drivers' },
    { name: 'devices.csv', data: 'old devices' },
  ];
  const NEW = [
    { name: 'drivers.csv', data: 'new drivers' },
    { name: 'devices.csv', data: 'new devices' },
    { name: 'links.csv', data: 'new links' },
  ];
  const contents = (dir: string) =>
    Object.fromEntries(
      readdirSync(dir)
        .sort()
        .map((n) => [n, readFileSync(join(dir, n), 'utf8')]),
    );
  const asSet = (files: typeof NEW) =>
    Object.fromEntries([...files].sort((a, b) => a.name.localeCompare(b.name)).map((f) => [f.name, f.data]));

  test('a new folder appears whole; an existing one is replaced by the new set', () => {
    const parent = mkdtempSync(join(folder, 'unit-'));
    const csv = join(parent, 'tables');
    writeFolderAtomic(csv, OLD);
    expect(contents(csv)).toEqual(asSet(OLD));
    writeFolderAtomic(csv, NEW);
    expect(contents(csv)).toEqual(asSet(NEW));
    expect(readdirSync(parent)).toEqual(['tables']);
    // An empty folder is filled; a link to a folder fills the folder it names.
    const empty = join(parent, 'empty');
    mkdirSync(empty);
    writeFolderAtomic(empty, NEW);
    expect(contents(empty)).toEqual(asSet(NEW));
    symlinkSync(csv, join(parent, 'link'));
    const again = NEW.map((f) => ({ ...f, data: `${f.data} again` }));
    writeFolderAtomic(join(parent, 'link'), again);
    expect(lstatSync(join(parent, 'link')).isSymbolicLink()).toBe(true);
    expect(contents(csv)).toEqual(asSet(again));
    expect(() =>
      writeFolderAtomic(join(folder, 'no', 'such', 'tables'), [{ name: 'x.csv', data: '' }]),
    ).toThrow(/its folder does not exist/);
    expect(existsSync(join(folder, 'no'))).toBe(false);
  });

  test('a failure part way removes only the files this process wrote, and leaves the old set', () => {
    const parent = mkdtempSync(join(folder, 'failed-'));
    const csv = join(parent, 'tables');
    writeFolderAtomic(csv, OLD);
    // The second name cannot be created (its folder does not exist): the first was written.
    expect(() =>
      writeFolderAtomic(csv, [
        { name: 'drivers.csv', data: 'new' },
        { name: 'missing/devices.csv', data: 'new' },
      ]),
    ).toThrow(OutputError);
    expect(contents(csv)).toEqual(asSet(OLD));
    expect(readdirSync(parent)).toEqual(['tables']);
  });

  test('a writer killed at any step leaves the complete old set or the complete new set', () => {
    const script = join(folder, 'killed-at.mts');
    // Every call that changes the file system counts as a step; the writer kills itself before step N.
    writeFileSync(
      script,
      `import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { writeFolderAtomic } from ${JSON.stringify(MODULE)};
const [dir, at, files] = [process.argv[2]!, Number(process.argv[3]), JSON.parse(process.argv[4]!)];
let step = 0;
for (const name of ['mkdirSync', 'openSync', 'writeSync', 'fsyncSync', 'closeSync', 'renameSync', 'unlinkSync', 'rmdirSync', 'rmSync'] as const) {
  const original = fs[name] as (...args: unknown[]) => unknown;
  (fs as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
    if (++step === at) process.kill(process.pid, 'SIGKILL');
    return original.apply(fs, args);
  };
}
syncBuiltinESMExports();
writeFolderAtomic(dir, files);
`,
    );
    const seen = new Set<string>();
    for (let at = 1; ; at++) {
      const parent = mkdtempSync(join(folder, `step${at}-`));
      const csv = join(parent, 'tables');
      writeFolderAtomic(csv, OLD);
      const run = spawnSync(
        process.execPath,
        ['--import', 'tsx', script, csv, String(at), JSON.stringify(NEW)],
        {
          cwd: ROOT,
          encoding: 'utf8',
        },
      );
      if (run.status === 0) break;
      expect(run.signal, run.stderr).toBe('SIGKILL');
      const visible = readdirSync(parent).filter((n) => !n.startsWith('.'));
      if (visible.length === 0) {
        // Killed between the two renames of the swap: the old set is complete beside it.
        const aside = readdirSync(parent).filter((n) => n.endsWith('.old'));
        expect(aside, `step ${at}`).toHaveLength(1);
        expect(contents(join(parent, aside[0]!)), `step ${at}`).toEqual(asSet(OLD));
        seen.add('aside');
      } else {
        expect(visible).toEqual(['tables']);
        const now = contents(csv);
        const state = JSON.stringify(now) === JSON.stringify(asSet(OLD)) ? 'old' : 'new';
        expect(now, `step ${at}`).toEqual(state === 'old' ? asSet(OLD) : asSet(NEW));
        seen.add(state);
      }
      expect(at).toBeLessThan(100);
    }
    expect([...seen].sort()).toEqual(['aside', 'new', 'old']);
  });
});
