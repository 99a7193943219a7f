// Reports of the real engine's results on the builder's images (recorded once and replayed:
// test/support/engine-recordings.ts): escaped, complete, and the same bytes whatever process,
// time zone or locale makes them; and the workbench's export through a backend running the
// recorded engine.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { diffResults } from '../../../src/core/compare';
import type { AnalysisResult } from '../../../src/common/model';
import {
  csvField,
  escapeHtml,
  htmlReport,
  jsonReport,
  makeReport,
  visibleText,
  type ReportCase,
} from '../../../src/core/report/index';
import { makeReportFile } from '../../../src/core/node/report/report-file';
import type { ApiEvent, CaseView, SessionSummary } from '../../../src/common/api';
import { Backend } from '../../../src/backend/index';
import { RECORDED_ENGINE, analyse, buildTestImages, type TestImages } from './images';

let images: TestImages;
let infected: AnalysisResult;
let clean: AnalysisResult;

beforeAll(async () => {
  images = buildTestImages();
  infected = await analyse(images.infected);
  clean = await analyse(images.clean);
});
afterAll(() => images.remove());

describe('escaping', () => {
  test('control characters become visible escapes', () => {
    expect(visibleText('a\u0007b\u001b[31m\u2028')).toBe('a\\u0007b\\u001b[31m\\u2028');
  });

  test('markup is escaped', () => {
    expect(escapeHtml('<img src=x onerror=alert(1)>"\'&')).toBe(
      '&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;',
    );
  });

  test('CSV fields are quoted and formulas neutralised', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=cmd|calc')).toBe("'=cmd|calc");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField(-2)).toBe('-2');
    expect(csvField(null)).toBe('');
  });
});

describe("reports of the real engine's results", () => {
  test('the HTML report shows the hostile driver name escaped, never as markup', () => {
    const html = htmlReport(infected, { label: 'infected', diff: diffResults(clean, infected) });
    expect(html).toContain(escapeHtml(visibleText(images.hostileName)));
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;\\u0007\\u001b[31m');
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toContain('\u0007');
    expect(html).not.toContain('\u001b');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("default-src 'none'");
  });

  test('CSV holds every table and no raw control character', () => {
    const files = new Map(
      makeReport(infected, 'csv', { label: 'infected' }).files!.map((f) => [f.name, f.content] as const),
    );
    for (const name of ['drivers', 'irp', 'devices', 'modules', 'links', 'findings'])
      expect(files.has(`${name}.csv`)).toBe(true);
    for (const content of files.values()) expect(content).not.toContain('\u0007');
    expect(files.get('drivers.csv')).toContain(
      `${images.rootkitModule.replace('.sys', '')}<img src=x onerror=alert(1)>""'&\\u0007\\u001b[31m`,
    );
  });

  test('JSON is the result itself', () => {
    expect(JSON.parse(jsonReport(infected))).toEqual(infected);
  });

  test('file names are safe whatever the label', () => {
    expect(makeReport(infected, 'html', { label: '../../etc/<x>.raw' }).fileName).toBe('irpscope-x.html');
    expect(makeReport(infected, 'csv', { label: 'Demo: infected system' })).toMatchObject({
      fileName: 'irpscope-Demo-infected-system.zip',
      mimeType: 'application/zip',
    });
  });
});

describe("case reports with evidence, of the real engine's results", () => {
  /** A case whose analyst wrote hostile text too: notes are as untrusted as the image. */
  const hostileCase = (result: AnalysisResult): ReportCase => ({
    imagePath: '/cases/lab-7/</style><script>alert(1)</script>.raw',
    imageSize: 67108864,
    sha256: 'a'.repeat(64),
    sha256ComputedAt: '2026-12-02T04:05:00.000Z',
    sha256State: 'not-verified',
    sha256VerifiedAt: null,
    analyzedAt: '2026-12-02T04:00:00.000Z',
    analyst: 'J. Analyst <b>',
    note: 'Case 2026-113 — "sample 4f1c" </style>',
    annotations: {
      [`finding:${result.findings[0]!.id}`]: {
        status: 'suspicious',
        note: 'rootkit </pre><img src=x>',
        updatedAt: '2026-12-02T05:00:00Z',
      },
      [`driver:${result.drivers[0]!.objectVa}`]: {
        status: 'benign',
        note: '',
        updatedAt: '2026-12-02T05:01:00Z',
      },
    },
    baseline: {
      path: '/cases/lab-7/clean </style>.raw',
      size: 33554432,
      sha256: 'b'.repeat(64),
      sha256ComputedAt: '2026-12-01T09:00:00.000Z',
      sha256State: 'verified',
      sha256VerifiedAt: '2026-12-02T05:58:00.000Z',
      build: 'Windows 7 SP1 (build 7601), x86',
      analyzedAt: '2026-12-01T08:59:00.000Z',
    },
  });

  test('the case header, every finding with its evidence, and a diagram per device with a finding', () => {
    const reportCase = hostileCase(infected);
    const html = htmlReport(infected, {
      label: 'lab-7 </style><script>x</script>',
      diff: diffResults(clean, infected),
      generatedBy: 'IRPscope test',
      generatedAt: '2026-12-02T06:00:00.000Z',
      case: reportCase,
    });
    // One style element, never ended early by the label in its @page header; no markup from any text.
    expect(html.match(/<\/style>/g)).toHaveLength(1);
    expect(html).toContain(
      '@top-left{content:"IRPscope report — lab-7 \\3c /style>\\3c script>x\\3c /script>"',
    );
    expect(html).not.toMatch(/<script|<img|<b>/i);
    for (const text of [
      'J. Analyst &lt;b&gt;',
      `${'a'.repeat(64)} as of 2026-12-02 04:05:00 UTC; file unchanged since: not verified`,
      '67,108,864 bytes',
      '2026-12-02 04:00:00 UTC',
      '/cases/lab-7/clean &lt;/style&gt;.raw',
    ])
      expect(html).toContain(text);
    expect(html).toContain('rootkit &lt;/pre&gt;&lt;img src=x&gt;');
    // Each finding is a section; an inline hook shows its bytes and instructions.
    expect(html.match(/<section class="finding /g)!.length).toBeGreaterThanOrEqual(infected.findings.length);
    const inline = infected.findings.find((f) => f.kind === 'inline-hook')!;
    const bytes = (inline.evidence.disassembly!.bytes.match(/../g) ?? []).join(' ');
    expect(html).toContain(bytes);
    expect(html).toContain(escapeHtml(inline.evidence.disassembly!.instructions[0]!));
    // The request paths: inline SVG, one per device and operation, labels escaped.
    const diagrams = html.match(/<svg xmlns="http:\/\/www.w3.org\/2000\/svg" class="flow"/g) ?? [];
    expect(diagrams.length).toBeGreaterThanOrEqual(3);
    expect(html).toContain('ReadFile on \\Device\\KeyboardClass0');
    // The annotated driver carries its status in the drivers table.
    expect(html).toContain('<th>analyst</th>');
  });

  test('JSON carries the case and its annotations', () => {
    const reportCase = hostileCase(infected);
    const json = JSON.parse(jsonReport(infected, { case: reportCase })) as AnalysisResult & {
      case: ReportCase;
    };
    expect(json.case).toEqual(reportCase);
  });

  test('another process, in another time zone and locale, analyses the image and makes the same JSON (timings apart), HTML and CSV archive', () => {
    const options = {
      label: 'lab-7',
      generatedBy: 'IRPscope test',
      generatedAt: '2026-12-02T06:00:00.000Z',
      case: hostileCase(infected),
    };
    const theirs = reportsInAnotherProcess(images.infected, options);
    const untimed = (json: string) => json.replace(/"ms": [0-9.]+/g, '"ms": 0');
    const ours = (format: 'json' | 'html' | 'csv') => makeReport(infected, format, options).content;
    expect(untimed(theirs.json)).toBe(untimed(ours('json')));
    expect(theirs.html).toBe(ours('html'));
    expect(theirs.csv).toBe(ours('csv'));
  }, 120_000);

  test('PDF: printed by Chromium, with page numbers, the hostile name shown as text', async () => {
    const pdf = await makeReportFile(infected, 'pdf', {
      label: 'lab-7',
      diff: diffResults(clean, infected),
      generatedAt: '2026-12-02T06:00:00.000Z',
      case: hostileCase(infected),
    });
    expect(pdf).toMatchObject({
      fileName: 'irpscope-lab-7.pdf',
      mimeType: 'application/pdf',
      encoding: 'base64',
    });
    const bytes = Buffer.from(pdf.content, 'base64');
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const folder = mkdtempSync(join(tmpdir(), 'irpscope-pdf-test-'));
    try {
      writeFileSync(join(folder, 'r.pdf'), bytes);
      const text = spawnSync('pdftotext', ['-layout', join(folder, 'r.pdf'), '-'], { encoding: 'utf8' });
      expect(text.status, 'pdftotext (poppler-utils) is needed').toBe(0);
      expect(text.stdout).toMatch(/Page 1 of \d+/);
      expect(text.stdout).toContain('IRPscope report — lab-7');
      expect(text.stdout).toContain('<img src=x onerror=alert(1)>');
      expect(text.stdout).toContain('\\u0007\\u001b[31m');
      expect(text.stdout).not.toContain('\u0007');
      // The baseline is identified in the PDF too, its hash with what is known of it.
      const flat = text.stdout.replace(/\s+/g, ' ');
      expect(flat).toContain('Baseline /cases/lab-7/clean </style>.raw');
      expect(flat).toContain(
        `Baseline SHA-256 ${'b'.repeat(64)} as of 2026-12-01 09:00:00 UTC; file unchanged since: verified 2026-12-02 05:58:00 UTC`,
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 120_000);

  test('with no Chromium the PDF fails in one clear sentence', async () => {
    await expect(
      makeReportFile(infected, 'pdf', {
        label: 'x',
        print: () =>
          import('../../../src/core/node/report/pdf').then((m) =>
            m.printPdf('<p>x</p>', { env: { PATH: '/nonexistent' } }),
          ),
      }),
    ).rejects.toThrow(/no Chromium-based browser was found to print the PDF/);
  });
});

describe('the workbench export, on the recorded engine', () => {
  let data: string;
  let backend: Backend;
  beforeAll(() => {
    data = mkdtempSync(join(tmpdir(), 'irpscope-report-data-'));
    backend = new Backend({
      mode: 'web',
      version: 'test',
      dataDirectory: data,
      engineModule: RECORDED_ENGINE,
    });
  });
  afterAll(() => {
    backend.dispose();
    rmSync(data, { recursive: true, force: true });
  });

  /** Resolves with the first event `pick` accepts (checked against the present state first). */
  function until<T>(pick: (event: ApiEvent) => T | undefined, now: () => Promise<T | undefined>): Promise<T> {
    return new Promise((resolve) => {
      let done = false;
      const unsubscribe = backend.subscribe((event) => {
        const value = pick(event);
        if (value !== undefined && !done) {
          done = true;
          unsubscribe();
          resolve(value);
        }
      });
      void now().then((value) => {
        if (value !== undefined && !done) {
          done = true;
          unsubscribe();
          resolve(value);
        }
      });
    });
  }
  const ready = (id: string) =>
    until<SessionSummary>(
      (e) =>
        e.type === 'session' && e.session.id === id && e.session.state === 'ready' ? e.session : undefined,
      async () => (await backend.sessions()).find((s) => s.id === id && s.state === 'ready'),
    );
  const hashed = (id: string) =>
    until<CaseView>(
      (e) => (e.type === 'case' && e.session === id && e.case.image.sha256 ? e.case : undefined),
      async () => {
        const view = await backend.caseOf(id);
        return view?.image.sha256 ? view : undefined;
      },
    );

  test('names the baseline with its file, size, hash (never bare), build and analysis time', async () => {
    const primary = await backend.open({ path: images.infected });
    const baseline = await backend.open({ path: images.clean, role: 'baseline' });
    await Promise.all([ready(primary.id), ready(baseline.id)]);
    await backend.hashImage({ session: baseline.id, action: 'start' });
    await hashed(baseline.id);

    const file = await backend.report({ session: primary.id, format: 'json', baseline: baseline.id });
    const json = JSON.parse(file.content) as AnalysisResult & {
      case: ReportCase;
      report: { madeAt: string };
    };
    const base = json.case.baseline!;
    expect(base.path).toBe(images.clean);
    expect(base.size).toBe(statSync(images.clean).size);
    expect(base.sha256).toBe(createHash('sha256').update(readFileSync(images.clean)).digest('hex'));
    // The workbench hashed it earlier: stated as of then, with whether the file was checked since.
    expect(['verified', 'not-verified']).toContain(base.sha256State);
    if (base.sha256State === 'verified') expect(base.sha256VerifiedAt).not.toBeNull();
    expect(base.build).toMatch(/build 7601/);
    expect(Date.parse(base.analyzedAt!)).toBeLessThanOrEqual(Date.parse(json.report.madeAt));
    expect(Date.parse(json.case.analyzedAt!)).toBeLessThanOrEqual(Date.parse(json.report.madeAt));
    // The image was not hashed: no hash, no state.
    expect([json.case.sha256, json.case.sha256State]).toEqual([null, null]);

    const TIME = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC';
    const html = (await backend.report({ session: primary.id, format: 'html', baseline: baseline.id }))
      .content;
    expect(html).toContain(`<td>Baseline</td><td>${escapeHtml(images.clean)}</td>`);
    // The CSV export: the same two files in case.csv, in the .zip.
    const csv = await backend.report({ session: primary.id, format: 'csv', baseline: baseline.id });
    expect(csv).toMatchObject({
      fileName: 'irpscope-image.zip',
      mimeType: 'application/zip',
      encoding: 'base64',
    });
    const caseCsv = csv.files!.find((f) => f.name === 'case.csv')!.content.split('\r\n');
    expect(caseCsv[1]).toMatch(new RegExp(`^image,${images.infected},`));
    expect(caseCsv[2]).toMatch(
      new RegExp(`^baseline,${images.clean},\\d+,${base.sha256},(verified|not-verified),`),
    );
    expect(html).toMatch(
      new RegExp(
        `<td>Baseline SHA-256</td><td>${base.sha256} as of (${TIME}|a time not recorded); file unchanged since: (verified ${TIME}|not verified)</td>`,
      ),
    );
  });
});

/**
 * The JSON, HTML and CSV (a base64 ZIP) reports of `image` as a fresh process makes them: the
 * real engine analysing it there, in a time zone and a locale unlike this process's.
 */
function reportsInAnotherProcess(
  image: string,
  options: object,
): { json: string; html: string; csv: string } {
  const folder = mkdtempSync(join(tmpdir(), 'irpscope-report-process-'));
  try {
    const source = (path: string) => JSON.stringify(fileURLToPath(new URL(path, import.meta.url)));
    const script = join(folder, 'reports.mts');
    writeFileSync(
      script,
      `import { readFileSync, writeFileSync } from 'node:fs';
import { analyzeImage } from ${source('../../../src/core/node/analyze.ts')};
import { makeReport } from ${source('../../../src/core/report/index.ts')};
const [image, optionsFile, out] = process.argv.slice(2);
const options = JSON.parse(readFileSync(optionsFile, 'utf8'));
const result = await analyzeImage(image);
for (const format of ['json', 'html', 'csv'] as const)
  writeFileSync(out + '/' + format, makeReport(result, format, options).content);
`,
    );
    writeFileSync(join(folder, 'options.json'), JSON.stringify(options));
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', script, image, join(folder, 'options.json'), folder],
      {
        encoding: 'utf8',
        timeout: 110_000,
        env: { ...process.env, TZ: 'Pacific/Chatham', LC_ALL: 'de_DE.UTF-8', LANG: 'de_DE.UTF-8' },
      },
    );
    expect(child.status, child.stderr).toBe(0);
    const read = (format: string) => readFileSync(join(folder, format), 'utf8');
    return { json: read('json'), html: read('html'), csv: read('csv') };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
