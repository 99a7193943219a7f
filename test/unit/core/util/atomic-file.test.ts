// Files are written whole or not at all: a failure (a size limit, a missing folder) leaves the old
// file and no temporary one; a writer killed mid-write leaves the old file, and its temporary file
// is removed by the next write to that folder.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { OutputError, writeFileAtomic, writeFolderAtomic } from '../../../../src/core/util/atomic-file';

const folder = mkdtempSync(join(tmpdir(), 'irpscope-atomic-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const MODULE = fileURLToPath(new URL('../../../../src/core/util/atomic-file.ts', import.meta.url));
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

test('replaces the file and leaves nothing else', () => {
  const path = join(folder, 'report.html');
  writeFileSync(path, 'old');
  writeFileAtomic(path, 'new');
  expect(readFileSync(path, 'utf8')).toBe('new');
  expect(temporaries(folder)).toEqual([]);
});

test('a folder that does not exist: one sentence, nothing written', () => {
  const path = join(folder, 'missing', 'report.html');
  expect(() => writeFileAtomic(path, 'x')).toThrow(OutputError);
  expect(() => writeFileAtomic(path, 'x')).toThrow(`cannot write ${path}: its folder does not exist`);
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

test('a writer killed mid-write leaves the old file; the next write clears its debris', async () => {
  const path = join(folder, 'case.json');
  writeFileSync(path, 'the previous case');
  const child = spawn('bash', ['-c', `exec ${writer(path, 400)}`], { stdio: 'ignore', cwd: ROOT });
  // Wait until the temporary file is being written, then kill the writer.
  const deadline = Date.now() + 30_000;
  while (!temporaries(folder).some((n) => statSync(join(folder, n)).size > 0)) {
    if (Date.now() > deadline) throw new Error('the writer never started');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  expect(readFileSync(path, 'utf8')).toBe('the previous case');
  expect(temporaries(folder).length).toBe(1);
  writeFileAtomic(join(folder, 'other.txt'), 'x');
  expect(temporaries(folder)).toEqual([]);
});

test('a new folder of files appears whole; into an existing one each file is replaced', () => {
  const csv = join(folder, 'tables');
  writeFolderAtomic(csv, [
    { name: 'drivers.csv', data: 'a' },
    { name: 'devices.csv', data: 'b' },
  ]);
  expect(readdirSync(csv).sort()).toEqual(['devices.csv', 'drivers.csv']);
  writeFolderAtomic(csv, [{ name: 'drivers.csv', data: 'c' }]);
  expect(readFileSync(join(csv, 'drivers.csv'), 'utf8')).toBe('c');
  expect(() =>
    writeFolderAtomic(join(folder, 'no', 'such', 'tables'), [{ name: 'x.csv', data: '' }]),
  ).toThrow(/its folder does not exist/);
  expect(existsSync(join(folder, 'no'))).toBe(false);
});
