// Bad requests give one line naming the problem, a non-zero exit, and leave no files behind.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { ISF_19041 } from '../../support/shared';

const ROOT = join(__dirname, '../../..');
const ISF = ISF_19041;
const work = mkdtempSync(join(tmpdir(), 'irpscope-bad-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function buildImage(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/builder/cli.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { status: result.status, stderr: result.stderr.trim(), stdout: result.stdout };
}

const notKernel = join(work, 'not-a-kernel.json');
writeFileSync(
  notKernel,
  JSON.stringify({
    metadata: { format: '6.2.0' },
    user_types: { _FOO: { size: 4, fields: {} } },
    symbols: {},
  }),
);
const notJson = join(work, 'not-json.json');
writeFileSync(notJson, 'this is not JSON');

test.each([
  ['an unknown profile', ['--profile', 'win95-x86'], /unknown --profile "win95-x86"/],
  ['an ISF that is not JSON', ['--isf', notJson], /is not JSON/],
  ['an ISF that is not a kernel symbol table', ['--isf', notKernel], /not a Windows kernel symbol table/],
  ['a missing ISF file', ['--isf', join(work, 'missing.json.xz')], /cannot read ISF file/],
  [
    'a size too small for the content',
    ['--profile', 'xp-sp3-x86', '--size', '16M'],
    /--size must be between 64M and 16G/,
  ],
  ['a size that is not a size', ['--profile', 'xp-sp3-x86', '--size', 'big'], /is not a size/],
  ['an unknown format', ['--profile', 'xp-sp3-x86', '--format', 'vhd'], /vhd/],
  ['both an ISF and a profile', ['--isf', ISF, '--profile', 'xp-sp3-x86'], /either --isf or --profile/],
  [
    'a --build that is not a number',
    ['--isf', ISF, '--build', '17763a'],
    /--build must be a Windows build number/,
  ],
  [
    'a --build for an x86 profile',
    ['--profile', 'xp-sp3-x86', '--build', '2600'],
    /--build applies to --isf/,
  ],
  [
    '--future from an ISF older than the newest layout',
    ['--isf', ISF, '--future'],
    /--future starts from the newest layout the builder has \(build 22000\); .* describes build 19041/,
  ],
])('%s', (_label, args, message) => {
  const out = join(work, 'out');
  const result = buildImage([...args, '--out', out]);
  expect(result.status).toBe(2);
  expect(result.stderr.split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(message);
  expect(existsSync(out)).toBe(false);
});

test('an unwritable --out', () => {
  const result = buildImage(['--profile', 'xp-sp3-x86', '--out', '/proc/irpscope-cannot-write-here']);
  expect(result.status).toBe(2);
  expect(result.stderr.split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/cannot write to --out/);
});

test('a failed build leaves the pre-existing output folder as it was', () => {
  const out = join(work, 'kept');
  buildImage(['--profile', 'xp-sp3-x86', '--size', '64M', '--fill', 'zero', '--out', out]);
  const before = readdirSync(out).sort();
  const result = buildImage(['--profile', 'nope', '--out', out]);
  expect(result.status).toBe(2);
  expect(readdirSync(out).sort()).toEqual(before);
  expect(readdirSync(work).filter((f) => f.includes('.partial-'))).toEqual([]);
});
