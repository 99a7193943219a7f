// The command line as a user runs it (the sources through tsx): exit codes, what goes to stdout
// and stderr, and the diff and report commands on a clean and an infected builder image.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Truth } from '../../src/builder/index';
import type { DiffResult } from '../../src/common/api';
import type { AnalysisResult } from '../../src/common/model';
import { HOSTILE_NAME, buildTestImages, type TestImages } from '../unit/backend/images';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function irpscope(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

let images: TestImages;
let truth: Truth;

beforeAll(() => {
  images = buildTestImages();
  truth = JSON.parse(readFileSync(join(images.folder, 'infected', 'truth.json'), 'utf8')) as Truth;
});
afterAll(() => images.remove());

describe('irpscope info', () => {
  test('names the build and the DTB, exit code 0', () => {
    const run = irpscope('info', images.infected);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Windows 7 SP1.*7601/);
    expect(run.stdout).toContain(`0x${BigInt(truth.dtb).toString(16)}`);
  });

  test('a file that is no memory image: exit code 2, the reason on stderr, nothing on stdout', () => {
    const junk = join(images.folder, 'junk.bin');
    writeFileSync(junk, Buffer.alloc(100, 0x41));
    const run = irpscope('info', junk);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^irpscope: .+/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('irpscope analyze', () => {
  test('--json is the analysis document, with the hostile driver among the drivers', () => {
    const run = irpscope('analyze', images.infected, '--json');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as AnalysisResult;
    expect(result.drivers.map((d) => d.name)).toContain(HOSTILE_NAME);
  });

  test('a text table never prints the control characters of an image string', () => {
    const run = irpscope('analyze', images.infected, '--table', 'drivers');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('\\u0007');
    // eslint-disable-next-line no-control-regex
    expect(run.stdout).not.toMatch(/[\u0007\u001b]/);
  });
});

describe('irpscope diff', () => {
  test('against its clean twin, every planted finding is an added finding', () => {
    const run = irpscope('diff', images.clean, images.infected, '--json');
    expect(run.status).toBe(0);
    const diff = JSON.parse(run.stdout) as DiffResult;
    const added = diff.entries.filter((e) => e.kind === 'finding' && e.change === 'added').map((e) => e.key);
    for (const planted of truth.findings) {
      expect(
        added.some((key) => key.startsWith(`${planted.kind} `)),
        planted.kind,
      ).toBe(true);
    }
    expect(diff.entries[0]!.severity).toBe('critical');
  });

  test('an image against itself: no differences', () => {
    const run = irpscope('diff', images.clean, images.clean);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('No differences.');
  });
});

describe('irpscope report', () => {
  test('HTML with the baseline comparison, the hostile name escaped', () => {
    const out = join(images.folder, 'report.html');
    const run = irpscope('report', images.infected, '--baseline', images.clean, '--out', out);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`wrote ${out}`);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('Compared with baseline');
    expect(html).toContain('netfltx&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/<script/i);
  });

  test('JSON to stdout with --out -', () => {
    const run = irpscope('report', images.infected, '--format', 'json', '--out', '-');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as AnalysisResult;
    expect(result.findings.length).toBe(truth.findings.length);
  });
});
