// The CSV report: one RFC 4180 file per table in one .zip (read back with Info-ZIP's unzip, not
// the library that wrote it), with the case, the analyst's marks, the comparison and a README
// that describes every file and column.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diffResults } from '../../../../src/core/compare';
import type { DiffResult } from '../../../../src/common/api';
import type { AnalysisResult } from '../../../../src/common/model';
import {
  makeReport,
  visibleText,
  type ReportCase,
  type ReportOptions,
} from '../../../../src/core/report/index';
import { parseCsv, useReportMaterial } from './fixture';

const material = useReportMaterial();
let folder: string;
beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'irpscope-csv-test-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** The files of a .zip as unzip reads them. */
function unzip(zip: Buffer): Map<string, string> {
  const path = join(folder, `${Math.random().toString(36).slice(2)}.zip`);
  writeFileSync(path, zip);
  const check = spawnSync('unzip', ['-tq', path], { encoding: 'utf8' });
  expect(check.status, `unzip -t: ${check.stdout}${check.stderr}`).toBe(0);
  const names = spawnSync('unzip', ['-Z1', path], { encoding: 'utf8' }).stdout.trim().split('\n');
  return new Map(
    names.map((name) => [name, spawnSync('unzip', ['-p', path, name], { encoding: 'utf8' }).stdout] as const),
  );
}

/** A table as objects keyed by its header, after checking every record has the header's width. */
function rowsOf(text: string): Array<Record<string, string>> {
  const [header, ...records] = parseCsv(text);
  for (const r of records) expect(r).toHaveLength(header!.length);
  return records.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])));
}

/** The finding the analyst marked: the rootkit's device on the keyboard stack. */
const keyboardFilter = (infected: AnalysisResult) =>
  infected.findings.find((f) => f.kind === 'foreign-filter')!;

function caseOf(infected: AnalysisResult): ReportCase {
  const hostile = infected.drivers.find((d) => d.name?.includes('<img'))!;
  return {
    imagePath: '/cases/lab-7/infected.raw',
    imageSize: 67108864,
    sha256: 'a'.repeat(64),
    sha256ComputedAt: '2026-12-02T04:10:00.000Z',
    sha256State: 'verified-now',
    sha256VerifiedAt: null,
    analyzedAt: '2026-12-02T04:00:00.000Z',
    analyst: '=HYPERLINK("http://x")',
    note: 'host FIN-WS04, "sample 4f1c"\nsecond line',
    annotations: {
      [`driver:${hostile.objectVa}`]: {
        status: 'suspicious',
        note: 'the rootkit',
        updatedAt: '2026-12-02T05:00:00Z',
      },
      [`finding:${keyboardFilter(infected).id}`]: {
        status: 'to-check',
        note: '',
        updatedAt: '2026-12-02T05:01:00.000Z',
      },
    },
    extractions: [
      {
        label: 'module ndisprot2.sys',
        fileName: 'ndisprot2.sys',
        base: '0x8a3be000',
        layout: 'pe',
        size: 8192,
        sha256: 'c'.repeat(64),
        missingPages: 1,
        pages: 2,
        at: '2026-12-02T05:30:00.000Z',
      },
    ],
    baseline: {
      path: '/cases/lab-7/clean.raw',
      size: 33554432,
      sha256: 'b'.repeat(64),
      sha256ComputedAt: '2026-11-30T22:15:00.000Z',
      sha256State: 'mismatch',
      sha256VerifiedAt: '2026-12-02T05:59:00.000Z',
      build: 'Windows 7 SP1 (build 7601), x86',
      analyzedAt: '2026-11-30T22:00:00.000Z',
    },
  };
}

function csvReport(options: ReportOptions): { zip: Buffer; files: Map<string, string>; fileName: string } {
  const file = makeReport(material().infected, 'csv', options);
  expect(file.encoding).toBe('base64');
  expect(file.mimeType).toBe('application/zip');
  const zip = Buffer.from(file.content, 'base64');
  return { zip, files: unzip(zip), fileName: file.fileName };
}

describe('the CSV report', () => {
  let diff: DiffResult;
  let options: ReportOptions;
  beforeAll(() => {
    const { clean, infected } = material();
    diff = diffResults(clean, infected, { baseline: 'clean.raw', primary: 'infected.raw' });
    options = {
      label: 'lab-7',
      diff,
      generatedBy: 'IRPscope test',
      generatedAt: '2026-12-02T06:00:00.000Z',
      case: caseOf(infected),
    };
  });

  test('is a .zip of one RFC 4180 file per table, with a README, the case, the marks and the comparison', () => {
    const { files, fileName } = csvReport(options);
    expect(fileName).toBe('irpscope-lab-7.zip');
    const names = [...files.keys()];
    expect(names[0]).toBe('README.txt');
    for (const name of [
      'case.csv',
      'marks.csv',
      'diff.csv',
      'diff-changes.csv',
      'drivers.csv',
      'irp.csv',
      'ssdt.csv',
      'callbacks.csv',
      'devices.csv',
      'modules.csv',
      'links.csv',
      'processes.csv',
      'threads.csv',
      'pending-irps.csv',
      'findings.csv',
      'extractions.csv',
    ])
      expect(names).toContain(name);
    for (const [name, text] of files)
      if (name.endsWith('.csv')) expect(() => parseCsv(text), name).not.toThrow();
    // Every table's rows, none lost: drivers and findings against the analysis.
    const { infected } = material();
    expect(rowsOf(files.get('drivers.csv')!)).toHaveLength(infected.drivers.length);
    expect(rowsOf(files.get('findings.csv')!).map((r) => r.id)).toEqual(infected.findings.map((f) => f.id));
  });

  test('case.csv: the image and the baseline, each with its hash and state, build and analysis time', () => {
    const [image, baseline, ...more] = rowsOf(csvReport(options).files.get('case.csv')!);
    expect(more).toEqual([]);
    expect(image).toMatchObject({
      role: 'image',
      path: '/cases/lab-7/infected.raw',
      size: '67108864',
      sha256: 'a'.repeat(64),
      sha256_state: 'verified-now',
      sha256_computed_at: '2026-12-02 04:10:00 UTC',
      sha256_verified_at: '',
      windows: 'Windows 7 SP1 (build 7601), x86',
      analysed_at: '2026-12-02 04:00:00 UTC',
      report_made_at: '2026-12-02 06:00:00 UTC',
      report_made_by: 'IRPscope test',
      // The analyst's words are as untrusted as the image: a formula is never one, a line break stays in its field.
      analyst: '\'=HYPERLINK("http://x")',
      note: 'host FIN-WS04, "sample 4f1c"\\u000asecond line',
    });
    expect(baseline).toMatchObject({
      role: 'baseline',
      path: '/cases/lab-7/clean.raw',
      size: '33554432',
      sha256: 'b'.repeat(64),
      sha256_state: 'mismatch',
      sha256_computed_at: '2026-11-30 22:15:00 UTC',
      sha256_verified_at: '2026-12-02 05:59:00 UTC',
      windows: 'Windows 7 SP1 (build 7601), x86',
      analysed_at: '2026-11-30 22:00:00 UTC',
      report_made_at: '2026-12-02 06:00:00 UTC',
    });
    expect(baseline!.comparison).toBe(
      `${diff.counts.differences} differences, ${diff.counts.variations} variations between boots`,
    );
  });

  test('marks.csv names each subject by kind, name and address; the hostile name stays text', () => {
    const { infected, images } = material();
    const hostile = infected.drivers.find((d) => d.name === images.hostileName)!;
    const marked = keyboardFilter(infected);
    expect(rowsOf(csvReport(options).files.get('marks.csv')!)).toEqual([
      {
        kind: 'finding',
        subject: `${marked.id} foreign-filter: ${marked.subject}`,
        address: marked.evidence.addresses?.[0] ?? marked.evidence.handlers?.[0]?.address ?? '',
        status: 'to check',
        note: '',
        marked_at: '2026-12-02 05:01:00 UTC',
      },
      {
        kind: 'driver',
        subject: visibleText(images.hostileName),
        address: hostile.objectVa,
        status: 'suspicious',
        note: 'the rootkit',
        marked_at: '2026-12-02 05:00:00 UTC',
      },
    ]);
  });

  test('diff.csv holds every entry of the comparison and diff-changes.csv every changed fact', () => {
    const { files } = csvReport(options);
    const entries = rowsOf(files.get('diff.csv')!);
    expect(entries.map((e) => [e.kind, e.change, e.severity])).toEqual(
      diff.entries.map((e) => [e.kind, e.change, e.severity]),
    );
    expect(entries.map((e) => e.subject)).toEqual(diff.entries.map((e) => visibleText(e.key)));
    expect(entries.filter((e) => e.variation === '')).toHaveLength(diff.counts.differences);
    const changes = rowsOf(files.get('diff-changes.csv')!);
    expect(changes).toHaveLength(diff.entries.reduce((n, e) => n + e.changes.length, 0));
    for (const change of changes) expect(Number(change.entry)).toBeLessThanOrEqual(entries.length);
  });

  test('extractions.csv lists the saved images', () => {
    expect(rowsOf(csvReport(options).files.get('extractions.csv')!)).toEqual([
      {
        image: 'module ndisprot2.sys',
        base: '0x8a3be000',
        file: 'ndisprot2.sys',
        layout: 'pe',
        bytes: '8192',
        missing_pages: '1',
        pages: '2',
        sha256: 'c'.repeat(64),
        extracted_at: '2026-12-02 05:30:00 UTC',
      },
    ]);
  });

  test('README.txt names every file and every column of it, and the time zone', () => {
    const { files } = csvReport(options);
    const readme = files.get('README.txt')!;
    expect(readme).toMatch(/RFC 4180/);
    expect(readme).toMatch(/Times are UTC/);
    for (const [name, text] of files) {
      if (!name.endsWith('.csv')) continue;
      const section = readme.split(`\r\n${name}: each row is `)[1];
      expect(section, name).toBeDefined();
      const described = section!.split('\r\n\r\n')[0]!;
      for (const column of parseCsv(text)[0]!)
        expect(described, `${name} ${column}`).toContain(`\r\n  ${column}: `);
    }
  });

  test('no raw control character and no live formula anywhere; the hostile driver name shown as text', () => {
    const { images } = material();
    const { files } = csvReport(options);
    for (const [name, text] of files) {
      // No C0 control but CR and LF, no DEL, no right-to-left override.
      const raw = [...text].filter((c) => {
        const code = c.codePointAt(0)!;
        return (code < 0x20 && c !== '\r' && c !== '\n') || code === 0x7f || code === 0x202e;
      });
      expect(raw, name).toEqual([]);
      if (name.endsWith('.csv'))
        for (const record of parseCsv(text))
          for (const field of record) expect(field, name).not.toMatch(/^[=+\-@]/);
    }
    expect(files.get('drivers.csv')).toContain(`${visibleText(images.hostileName).replace(/"/g, '""')}`);
  });

  test('the same report gives the same bytes', () => {
    expect(csvReport(options).zip.equals(csvReport(options).zip)).toBe(true);
  });

  test('without a case or a baseline: the image row from the analysis, no comparison files', () => {
    const { files } = csvReport({ label: 'x' });
    expect([...files.keys()]).not.toContain('diff.csv');
    const rows = rowsOf(files.get('case.csv')!);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      role: 'image',
      path: material().infected.image.path,
      sha256: '',
      sha256_state: '',
    });
    expect(rowsOf(files.get('marks.csv')!)).toEqual([]);
  });
});
