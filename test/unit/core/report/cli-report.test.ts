// `irpscope report`'s contents: each time is when its event happened (an analysis finishing, a
// hash finishing, the report being made) so the report is never made before what it reports, and
// the baseline is identified and hashed like the image.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ReportFormat } from '../../../../src/common/api';
import type { AnalysisResult } from '../../../../src/common/model';
import { buildReport, type ReportWork } from '../../../../src/cli/report-command';
import type { ReportCase } from '../../../../src/core/report/index';
import { useReportMaterial } from './fixture';

const material = useReportMaterial();

type JsonReport = AnalysisResult & { case: ReportCase; report: { madeAt: string } };

/** A clock one second further on each reading, and what was asked of the work, in order. */
function work(options: { baseline: boolean; hashLate: boolean }): ReportWork & { hashed: string[] } {
  const { clean, infected } = material();
  let tick = Date.parse('2026-12-02T04:00:00.000Z');
  const hashed: string[] = [];
  // The hash settles after every promise job now queued (an analysis that has ended included): a
  // large file is hashed after the analysis is done.
  const later = () => new Promise<void>((done) => setImmediate(done));
  return {
    analyses: {
      image: Promise.resolve(infected),
      ...(options.baseline ? { baseline: Promise.resolve(clean) } : {}),
    },
    async sha256(path: string) {
      if (options.hashLate) await later();
      hashed.push(path);
      return createHash('sha256').update(readFileSync(path)).digest('hex');
    },
    now: () => new Date((tick += 1000)),
    hashed,
  };
}

async function jsonOf(format: ReportFormat, request: { baseline?: string; hash: boolean }, w: ReportWork) {
  const { images } = material();
  const file = await buildReport({ image: images.infected, format, generatedBy: 'test', ...request }, w);
  return JSON.parse(file.content) as JsonReport;
}

const at = (iso: string | null | undefined) => Date.parse(iso ?? '');

describe('irpscope report: times', () => {
  test('analysed when the analysis finished; the report made after the analysis and the hash, never before', async () => {
    const { images } = material();
    const json = await jsonOf(
      'json',
      { hash: true, baseline: images.clean },
      work({ baseline: true, hashLate: true }),
    );
    const made = at(json.report.madeAt);
    for (const time of [
      json.case.analyzedAt,
      json.case.sha256ComputedAt,
      json.case.baseline?.analyzedAt,
      json.case.baseline?.sha256ComputedAt,
    ])
      expect(at(time), time ?? 'missing').toBeLessThan(made);
    // The hash ended after the analysis: the analysis is not stamped with the hash's time.
    expect(at(json.case.analyzedAt)).toBeLessThan(at(json.case.sha256ComputedAt));
  });
});

describe('irpscope report: the baseline', () => {
  test('identified and hashed like the image: path, size, SHA-256 computed now, build, analysis time', async () => {
    const { images, clean } = material();
    const w = work({ baseline: true, hashLate: false });
    const json = await jsonOf('json', { hash: true, baseline: images.clean }, w);
    const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
    expect(json.case).toMatchObject({
      imagePath: resolve(images.infected),
      imageSize: statSync(images.infected).size,
      sha256: sha256(images.infected),
      sha256State: 'verified-now',
    });
    expect(json.case.baseline).toMatchObject({
      path: resolve(images.clean),
      size: statSync(images.clean).size,
      sha256: sha256(images.clean),
      sha256State: 'verified-now',
      sha256VerifiedAt: null,
      build: `${clean.image.build!.value.name} (build ${clean.image.build!.value.number}), ${clean.image.arch}`,
    });
    expect(json.case.baseline!.sha256ComputedAt).not.toBeNull();
    expect(json.case.baseline!.analyzedAt).not.toBeNull();
    expect(new Set(w.hashed)).toEqual(new Set([images.infected, images.clean]));
  });

  test('--no-hash hashes neither file and says so', async () => {
    const { images } = material();
    const w = work({ baseline: true, hashLate: false });
    const json = await jsonOf('json', { hash: false, baseline: images.clean }, w);
    expect(w.hashed).toEqual([]);
    expect([json.case.sha256, json.case.sha256State]).toEqual([null, null]);
    expect([json.case.baseline?.sha256, json.case.baseline?.sha256State]).toEqual([null, null]);
  });
});

describe('irpscope report as a user runs it', () => {
  const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'irpscope-cli-report-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  const irpscope = (...args: string[]) => {
    // Run from the test's folder (the default output goes there): tsx named by where it is.
    const tsx = import.meta.resolve('tsx');
    const run = spawnSync(process.execPath, ['--import', tsx, join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: folder,
      encoding: 'utf8',
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  test('--format csv into a new folder (ending in /): every table, the case with both files, the comparison', () => {
    const { images } = material();
    const out = join(folder, 'tables/');
    const run = irpscope(
      'report',
      images.infected,
      '--baseline',
      images.clean,
      '--format',
      'csv',
      '--out',
      out,
    );
    expect(run.stderr).toBe(`irpscope: wrote ${out}\n`);
    expect(run.status).toBe(0);
    const names = readdirSync(out);
    for (const name of ['README.txt', 'case.csv', 'marks.csv', 'diff.csv', 'diff-changes.csv', 'drivers.csv'])
      expect(names).toContain(name);
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const caseCsv = readFileSync(join(out, 'case.csv'), 'utf8').split('\r\n');
    expect(caseCsv[1]).toMatch(new RegExp(`^image,${resolve(images.infected)},`));
    expect(caseCsv[2]).toMatch(
      new RegExp(`^baseline,${resolve(images.clean)},\\d+,[0-9a-f]{64},verified-now,`),
    );
  });

  test('--format csv by default: one .zip here; into a folder that exists: refused in one line', () => {
    const { images } = material();
    const run = irpscope('report', images.infected, '--format', 'csv', '--no-hash');
    expect(run.status).toBe(0);
    const zip = join(folder, 'irpscope-image.zip');
    expect(run.stderr).toBe('irpscope: wrote irpscope-image.zip\n');
    const listing = spawnSync('unzip', ['-Z1', zip], { encoding: 'utf8' });
    expect(listing.status).toBe(0);
    expect(listing.stdout.split('\n')).toContain('case.csv');

    mkdirSync(join(folder, 'existing'));
    const refused = irpscope(
      'report',
      images.infected,
      '--format',
      'csv',
      '--no-hash',
      '--out',
      join(folder, 'existing'),
    );
    expect(refused.status).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/existing.*a folder of that name exists/);
    expect(readdirSync(join(folder, 'existing'))).toEqual([]);
  });
});
