// The case in the HTML (and so PDF) and JSON reports: both files identified, every hash with what
// is known of it, times in one form, and the analyst's marks named by what they are on.

import { describe, expect, test } from 'vitest';
import { diffResults } from '../../../../src/core/compare';
import type { AnalysisResult } from '../../../../src/common/model';
import {
  escapeHtml,
  htmlReport,
  jsonReport,
  visibleText,
  type ReportCase,
} from '../../../../src/core/report/index';
import { useReportMaterial } from './fixture';

const material = useReportMaterial();

const IMAGE_HASH = 'a'.repeat(64);
const BASELINE_HASH = 'b'.repeat(64);

/** The finding the analyst marked: the inline patch of AFD's dispatch routine. */
const afdPatch = (infected: AnalysisResult) =>
  infected.findings.find((f) => f.kind === 'inline-hook' && f.subject === '\\Driver\\AFD')!;

/** A case on the infected image with the clean one as its baseline; the analyst's words are hostile too. */
function caseOf(infected: AnalysisResult, change: Partial<ReportCase> = {}): ReportCase {
  const hostile = infected.drivers.find((d) => d.name?.includes('<img'))!;
  const device = infected.devices.find((d) => d.name === '\\Device\\KeyboardClass0')!;
  const hooked = infected.drivers.find((d) => d.name === '\\Driver\\Disk')!;
  const patched = afdPatch(infected);
  return {
    imagePath: '/cases/lab-7/infected.raw',
    imageSize: 67108864,
    sha256: IMAGE_HASH,
    sha256ComputedAt: '2026-12-02T04:10:00.000Z',
    sha256State: 'verified',
    sha256VerifiedAt: '2026-12-02T05:59:30.000Z',
    analyzedAt: '2026-12-02T04:00:00.000Z',
    analyst: 'J. Analyst',
    note: 'Case 2026-113',
    annotations: {
      [`driver:${hostile.objectVa}`]: {
        status: 'suspicious',
        note: 'the rootkit',
        updatedAt: '2026-12-02T05:00:00Z',
      },
      [`device:${device.objectVa}`]: {
        status: 'to-check',
        note: 'filtered',
        updatedAt: '2026-12-02T05:01:00Z',
      },
      [`handler:${hooked.objectVa}:irp:IRP_MJ_READ`]: {
        status: 'benign',
        note: 'checked',
        updatedAt: '2026-12-02T05:02:00Z',
      },
      [`finding:${patched.id}`]: {
        status: 'suspicious',
        note: 'AFD patched',
        updatedAt: '2026-12-02T05:03:00Z',
      },
    },
    extractions: [],
    baseline: {
      path: '/cases/lab-7/clean <b>.raw',
      size: 33554432,
      sha256: BASELINE_HASH,
      sha256ComputedAt: '2026-11-30T22:15:00.000Z',
      sha256State: 'not-verified',
      sha256VerifiedAt: null,
      build: 'Windows 7 SP1 (build 7601), x86',
      analyzedAt: '2026-11-30T22:00:00.000Z',
    },
    ...change,
  };
}

/** The rows of the HTML report's case table, as label → value text. */
function caseRows(html: string): Map<string, string> {
  const table = /<table class="case"><tbody>([\s\S]*?)<\/tbody>/.exec(html)![1]!;
  return new Map(
    [...table.matchAll(/<tr><td>(.*?)<\/td><td>(.*?)<\/td><\/tr>/g)].map((m) => [m[1]!, m[2]!] as const),
  );
}

/** The rows of the analyst-notes table, as arrays of cell texts. */
function noteRows(html: string): string[][] {
  const section = /<h2>Analyst notes[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1]!;
  return [...section.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]!),
  );
}

describe('the case header', () => {
  test('names the baseline: its path, size, SHA-256 with its state, build and when it was analysed', () => {
    const { clean, infected } = material();
    const rows = caseRows(
      htmlReport(infected, {
        diff: diffResults(clean, infected),
        generatedAt: '2026-12-02T06:00:00Z',
        case: caseOf(infected),
      }),
    );
    expect(rows.get('Baseline')).toBe('/cases/lab-7/clean &lt;b&gt;.raw');
    expect(rows.get('Baseline size')).toBe('33,554,432 bytes');
    expect(caseRows(htmlReport(infected, { case: caseOf(infected, { imageSize: 1 }) })).get('Size')).toBe(
      '1 byte',
    );
    expect(rows.get('Baseline SHA-256')).toBe(
      `${BASELINE_HASH} as of 2026-11-30 22:15:00 UTC; file unchanged since: not verified`,
    );
    expect(rows.get('Baseline Windows')).toBe('Windows 7 SP1 (build 7601), x86');
    expect(rows.get('Baseline analysed')).toBe('2026-11-30 22:00:00 UTC');
  });

  test('a comparison without a recorded baseline file still names the baseline it was made with', () => {
    const { clean, infected } = material();
    const rows = caseRows(
      htmlReport(infected, { diff: diffResults(clean, infected, { baseline: 'clean.raw', primary: 'x' }) }),
    );
    expect(rows.get('Baseline')).toBe('clean.raw');
    expect(rows.get('Baseline SHA-256')).toBe('not computed');
    expect(rows.get('Baseline Windows')).toContain('7601');
  });

  test('a hash is stated with when it was computed and whether the file is known unchanged since', () => {
    const { infected } = material();
    const sha256Of = (change: Partial<ReportCase>) =>
      caseRows(htmlReport(infected, { case: caseOf(infected, change) })).get('SHA-256');
    expect(sha256Of({})).toBe(
      `${IMAGE_HASH} as of 2026-12-02 04:10:00 UTC; file unchanged since: verified 2026-12-02 05:59:30 UTC`,
    );
    expect(sha256Of({ sha256State: 'not-verified', sha256VerifiedAt: null })).toBe(
      `${IMAGE_HASH} as of 2026-12-02 04:10:00 UTC; file unchanged since: not verified`,
    );
    expect(sha256Of({ sha256State: 'verified-now', sha256VerifiedAt: null })).toBe(
      `${IMAGE_HASH} (computed 2026-12-02 04:10:00 UTC)`,
    );
    expect(sha256Of({ sha256State: 'mismatch' })).toMatch(
      new RegExp(
        `^${IMAGE_HASH} as of 2026-12-02 04:10:00 UTC; file unchanged since: NO.*2026-12-02 05:59:30 UTC`,
      ),
    );
    // A hash with nothing known of it (a case from before verification was kept) is not verified.
    expect(sha256Of({ sha256ComputedAt: null, sha256State: null, sha256VerifiedAt: null })).toBe(
      `${IMAGE_HASH} as of a time not recorded; file unchanged since: not verified`,
    );
    expect(sha256Of({ sha256: null, sha256ComputedAt: null, sha256State: null })).toBe('not computed');
  });

  test('the hash appears nowhere else than in its statement', () => {
    const { clean, infected } = material();
    const html = htmlReport(infected, { diff: diffResults(clean, infected), case: caseOf(infected) });
    expect(html.split(IMAGE_HASH).length - 1).toBe(1);
    expect(html.split(BASELINE_HASH).length - 1).toBe(1);
  });
});

describe('times', () => {
  test('every time in one form, in UTC, and the report says so', () => {
    const { clean, infected } = material();
    const reportCase = caseOf(infected, {
      extractions: [
        {
          label: 'module ndisprot2.sys',
          fileName: 'ndisprot2.sys',
          base: '0x8a3be000',
          layout: 'pe',
          size: 8192,
          sha256: 'c'.repeat(64),
          missingPages: 0,
          pages: 2,
          at: '2026-12-02T05:30:00.000Z',
        },
      ],
    });
    const html = htmlReport(infected, {
      diff: diffResults(clean, infected),
      generatedAt: '2026-12-02T06:00:00.000Z',
      case: reportCase,
    });
    expect(html).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
    const rows = caseRows(html);
    expect(rows.get('Analysed')).toBe('2026-12-02 04:00:00 UTC');
    expect(rows.get('Report made')).toBe('2026-12-02 06:00:00 UTC');
    expect(rows.get('Times')).toMatch(/UTC/);
    expect(html).toContain('2026-12-02 05:30:00 UTC');
    // An extracted file's hash is of the file as it was written then, and says so.
    expect(html).toContain('<th>SHA-256 of the file as saved</th><th>saved</th>');
    for (const minute of ['00', '01', '02', '03']) expect(html).toContain(`2026-12-02 05:${minute}:00 UTC`);
  });
});

describe('analyst notes', () => {
  test('each subject by its kind, its name and its address, never by its internal key', () => {
    const { infected, images } = material();
    const html = htmlReport(infected, { case: caseOf(infected) });
    const rows = noteRows(html);
    expect(rows).toHaveLength(4);
    expect(html).not.toMatch(/(driver|device|handler):0x/);
    const hostile = infected.drivers.find((d) => d.name === images.hostileName)!;
    const keyboard = infected.devices.find((d) => d.name === '\\Device\\KeyboardClass0')!;
    const disk = infected.drivers.find((d) => d.name === '\\Driver\\Disk')!;
    const read = disk.irp.find((h) => h.name === 'IRP_MJ_READ')!;
    const byKind = new Map(rows.map((r) => [r[0], r]));
    expect(byKind.get('driver')!.slice(1, 3)).toEqual([
      escapeHtml(visibleText(images.hostileName)),
      hostile.objectVa,
    ]);
    expect(byKind.get('device')!.slice(1, 3)).toEqual(['\\Device\\KeyboardClass0', keyboard.objectVa]);
    expect(byKind.get('handler')!.slice(1, 3)).toEqual(['\\Driver\\Disk IRP_MJ_READ', read.address]);
    expect(byKind.get('finding')![1]).toBe(`${afdPatch(infected).id} inline-hook: \\Driver\\AFD`);
    // The hostile name stays text.
    expect(html).not.toMatch(/<img/i);
  });

  test('a mark on something this analysis does not hold says so', () => {
    const { infected } = material();
    const rows = noteRows(
      htmlReport(infected, {
        case: caseOf(infected, {
          annotations: {
            'driver:0x12345678': { status: 'benign', note: '', updatedAt: '2026-12-02T05:00:00Z' },
          },
        }),
      }),
    );
    expect(rows[0]!.slice(0, 3)).toEqual([
      'driver',
      '(not in this analysis: driver:0x12345678)',
      '0x12345678',
    ]);
  });
});

describe('JSON', () => {
  test('the case names the baseline; the report says when and by what it was made; the comparison is in it', () => {
    const { clean, infected } = material();
    const reportCase = caseOf(infected);
    const diff = diffResults(clean, infected);
    const json = JSON.parse(
      jsonReport(infected, {
        case: reportCase,
        diff,
        generatedAt: '2026-12-02T06:00:00.000Z',
        generatedBy: 'test',
      }),
    ) as AnalysisResult & { case: ReportCase; report: unknown; diff: unknown };
    expect(json.case.baseline).toEqual(reportCase.baseline);
    expect(json.case.sha256State).toBe('verified');
    expect(json.report).toEqual({ madeAt: '2026-12-02T06:00:00.000Z', madeBy: 'test' });
    expect(json.diff).toEqual(JSON.parse(JSON.stringify(diff)));
    const { case: _c, report: _r, diff: _d, ...analysis } = json;
    expect(analysis).toEqual(infected);
  });
});
