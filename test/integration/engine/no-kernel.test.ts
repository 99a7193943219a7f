// "No findings" is only said of a kernel that was found and read. A file with no kernel in it is an
// error that says what was tried; an image whose kernel was found but some of whose structures
// could not be read says, next to every count, what is missing.

import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  closeSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildImage, type Truth } from '../../../src/builder/index';
import { analyzeImage } from '../../../src/core/node/analyze';
import { ImageError } from '../../../src/core/image';
import { renderSummary } from '../../../src/cli/render-analysis';
import { RawImage, translate } from '../../support/raw-reader';
import { ROOT, SHARED } from '../../support/shared';

function irpscope(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A pseudo-random file: the same bytes on every run. */
function noiseFile(path: string, size: number): void {
  const bytes = Buffer.alloc(size);
  let x = 0x2545f491;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes.writeInt32LE(x | 0, i);
  }
  writeFileSync(path, bytes);
}

/** Overwrites `length` bytes at virtual `va` of a raw image (page by page, through the truth's DTB). */
function scribble(path: string, truth: Truth, va: bigint, length: number, fill: number): void {
  const image = new RawImage(path);
  const fd = openSync(path, 'r+');
  try {
    for (let done = 0; done < length;) {
      const at = va + BigInt(done);
      const take = Math.min(length - done, 0x1000 - Number(at & 0xfffn));
      const pa = translate(image, truth.paging, Number(BigInt(truth.dtb)), at);
      if (pa !== null) writeSync(fd, Buffer.alloc(take, fill), 0, take, pa);
      done += take;
    }
  } finally {
    closeSync(fd);
    image.close();
  }
}

let folder: string;
let image: string;
let truth: Truth;

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'irpscope-no-kernel-'));
  const built = buildImage({
    profile: 'win7-sp1-x86',
    format: 'raw',
    scenario: 'infected',
    size: 64 * 1024 * 1024,
    seed: 1,
    fill: 'zero',
    out: join(folder, 'image'),
  });
  image = built.image;
  truth = built.truth;
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('no kernel found is an error, never a clean system', () => {
  test('a random 200 KB file: the engine refuses it and says what was tried', async () => {
    const noise = join(folder, 'noise.bin');
    noiseFile(noise, 200_000);
    const refusal = await analyzeImage(noise).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(ImageError);
    expect((refusal as ImageError).kind).toBe('no-kernel');
    expect((refusal as ImageError).message).toMatch(
      /^no Windows kernel found in .*noise\.bin: no valid DTB found \(/,
    );
  });

  test('the CLI: analyze and report exit 2 with the reason and write nothing; info says what it identified and exits 2', () => {
    const noise = join(folder, 'noise-cli.bin');
    noiseFile(noise, 200_000);
    const analyze = irpscope('analyze', noise);
    expect(analyze.status).toBe(2);
    expect(analyze.stdout).toBe('');
    expect(analyze.stderr).toMatch(
      /^irpscope: no Windows kernel found in .*noise-cli\.bin: no valid DTB found/,
    );
    expect(analyze.stderr).not.toMatch(/No findings|\n\s+at /);

    const out = join(folder, 'report.html');
    const report = irpscope('report', noise, '--out', out, '--no-hash');
    expect(report.status).toBe(2);
    expect(report.stderr).toMatch(/no Windows kernel found/);
    expect(existsSync(out)).toBe(false);

    const info = irpscope('info', noise);
    expect(info.status).toBe(2);
    expect(info.stdout).toMatch(/^Format\s+raw memory image/m);
    expect(info.stderr).toMatch(/^irpscope: no Windows kernel found in /);
  });

  test('a memory image whose kernel image was wiped: the page tables are there, the kernel is not', async () => {
    const wiped = join(folder, 'wiped.raw');
    copyFileSync(image, wiped);
    scribble(wiped, truth, BigInt(truth.kernelBase), truth.kernelSize, 0);
    const refusal = await analyzeImage(wiped).then(
      () => null,
      (error: unknown) => error as ImageError,
    );
    expect(refusal?.kind).toBe('no-kernel');
    expect(refusal?.message).toMatch(/no Windows kernel found in .*wiped\.raw: no kernel image found \(/);
    rmSync(wiped);
  });
});

describe('a partial analysis says what is missing next to every count', () => {
  test('a triage dump: modules from its header, every other part not available, and no "No findings"', async () => {
    const dump = join(SHARED, 'dumps/win10-19041-x64-triage.dmp');
    const result = await analyzeImage(dump);
    expect(result.modules.length).toBeGreaterThan(100);
    expect(result.coverage.modules.state).toBe('partial');
    for (const part of [
      'drivers',
      'devices',
      'links',
      'services',
      'processes',
      'threads',
      'irps',
      'findings',
    ] as const) {
      expect(result.coverage[part].state, part).toBe('unavailable');
      expect(result.coverage[part].missing.join(' '), part).toMatch(/triage dump holds no pool memory/);
    }
    const text = renderSummary(result);
    expect(text).not.toMatch(/No findings/);
    expect(text).not.toMatch(/\b0 drivers\b/);
    expect(text).toMatch(/^drivers: not available, devices: not available, \d+ modules \(partial\)/m);
    expect(text).toMatch(/^Findings: not available \(a triage dump/m);
  });

  test('a complete image: every part complete, and its counts as they are', async () => {
    const result = await analyzeImage(image);
    for (const [part, coverage] of Object.entries(result.coverage))
      expect(coverage, part).toEqual({ state: 'complete', missing: [] });
    const live = truth.drivers.length;
    expect(renderSummary(result)).toContain(`${live} drivers (+${result.drivers.length - live} unloaded)`);
  });

  test('PsLoadedModuleList cut: modules partial, unlinked modules not judged, and the findings say which judgement is missing', async () => {
    const cut = join(folder, 'cut.raw');
    copyFileSync(image, cut);
    // The list head's Flink points at nothing: the walk cannot leave the head.
    const head = BigInt(truth.psLoadedModuleList);
    scribble(cut, truth, head, 4, 0x41);
    const result = await analyzeImage(cut);
    expect(result.drivers.length).toBeGreaterThan(50);
    expect(result.coverage.modules.state).toBe('partial');
    expect(result.coverage.modules.missing.join(' ')).toMatch(/PsLoadedModuleList/);
    expect(result.modules.some((m) => m.unlinked)).toBe(false);
    expect(result.findings.some((f) => f.kind === 'unlinked-module')).toBe(false);
    expect(result.coverage.findings.state).toBe('partial');
    expect(result.coverage.findings.missing.join(' ')).toMatch(/unlinked modules cannot be judged/);
    const text = renderSummary(result);
    expect(text).toMatch(/\d+ modules \(partial\)/);
    expect(text).toMatch(/^ {2}modules partial: PsLoadedModuleList/m);
    expect(text).toMatch(
      /^Findings \(\d+\), and not every judgement could be made: unlinked modules cannot be judged/m,
    );
    rmSync(cut);
  });
});
