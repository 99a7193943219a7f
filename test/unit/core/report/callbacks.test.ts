// The reports' callbacks: the HTML section and callbacks.csv hold every
// registered routine the analysis found — checked against the builder's truth, on the default
// infected image with its four planted callbacks — and untrusted component names stay text.

import { beforeAll, describe, expect, test } from 'vitest';
import type { Truth } from '../../../../src/builder/index';
import { CALLBACK_LABELS } from '../../../../src/common/callback-labels';
import type { AnalysisResult } from '../../../../src/common/model';
import { analyzeImage } from '../../../../src/core/node/analyze';
import { csvReportFiles, htmlReport } from '../../../../src/core/report/index';
import { imageForSuite } from '../../../support/images';
import { truthCallbackEntries } from '../../../support/truth';
import { parseCsv, throughJson } from './fixture';

let truth: Truth;
let result: AnalysisResult;
beforeAll(async () => {
  const image = imageForSuite({
    profile: 'win7-sp1-x86',
    format: 'raw',
    scenario: 'infected',
    size: 64 * 1024 * 1024,
    seed: 1,
    fill: 'zero',
  });
  truth = image.truth;
  result = throughJson(await analyzeImage(image.image));
});

/** The rows of the HTML table that follows `heading`, each a list of its cells' text. */
function htmlTableAfter(html: string, heading: RegExp, nth = 0): string[][] {
  const from = html.search(heading);
  expect(from, String(heading)).toBeGreaterThanOrEqual(0);
  const tables = [...html.slice(from).matchAll(/<tbody>([\s\S]*?)<\/tbody>/g)];
  const body = tables[nth]![1]!;
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]!),
  );
}

function csvRows(files: ReturnType<typeof csvReportFiles>, name: string): Array<Record<string, string>> {
  const [header, ...records] = parseCsv(files.find((f) => f.name === name)!.content);
  return records.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])));
}

describe('the HTML report', () => {
  test('lists every truth callback with its entry, routine, owner and verdict', () => {
    const html = htmlReport(result);
    const rows = htmlTableAfter(html, /<h2>Callbacks and notify routines \(\d+\)<\/h2>/, 1);
    const every = truthCallbackEntries(truth);
    expect(html).toContain(`<h2>Callbacks and notify routines (${every.length})</h2>`);
    expect(rows.map((r) => r[2]).sort()).toEqual(every.map((c) => c.entry).sort());
    for (const registered of truth.registeredCallbacks) {
      const row = rows.find((r) => r[2] === registered.entry);
      expect(row, `${registered.kind} ${registered.slot}`).toBeDefined();
      const found = result.callbacks.entries.find((c) => c.entry === registered.entry)!;
      expect(row!.slice(0, 4)).toEqual([
        CALLBACK_LABELS[registered.kind as keyof typeof CALLBACK_LABELS],
        String(registered.slot),
        registered.entry,
        registered.routine,
      ]);
      expect(row![5]).toBe(registered.owner ?? '—');
      expect(row![6]).toBe(found.routine.verdict);
      if (registered.owner === null) expect(row![4]).toBe('no module');
    }
  });

  test("shows where each kind's head is and how it was found", () => {
    const rows = htmlTableAfter(htmlReport(result), /<h2>Callbacks and notify routines/, 0);
    expect(rows).toHaveLength(result.callbacks.heads.length);
    for (const head of truth.callbackHeads) {
      const row = rows.find((r) => r[0] === CALLBACK_LABELS[head.kind as keyof typeof CALLBACK_LABELS]);
      expect(row, head.kind).toBeDefined();
      expect(row![1]).toBe(head.address);
      expect(row![2]).not.toBe('—');
      expect(row![3]).toBe('read');
    }
  });

  test('a kind that could not be read says why; a hostile component name stays text', () => {
    const altered = throughJson(result);
    const head = altered.callbacks.heads[0]!;
    Object.assign(head, {
      address: null,
      method: null,
      coverage: { state: 'unavailable', missing: ['the registration routine was paged out'] },
    });
    altered.callbacks.entries[0]!.component = '<img src=x onerror=alert(1)>\u202eevil\u0007';
    const html = htmlReport(altered);
    const heads = htmlTableAfter(html, /<h2>Callbacks and notify routines/, 0);
    expect(heads[0]![3]).toBe('not available: the registration routine was paged out');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('\u202e');
    expect(html).not.toContain('\u0007');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});

describe('the CSV tables', () => {
  test('callbacks.csv holds every truth callback with its owner and verdict; README describes it', () => {
    const files = csvReportFiles(result);
    const rows = csvRows(files, 'callbacks.csv');
    expect(rows.map((r) => r.entry).sort()).toEqual(
      truthCallbackEntries(truth)
        .map((c) => c.entry)
        .sort(),
    );
    for (const registered of truth.registeredCallbacks) {
      const row = rows.find((r) => r.entry === registered.entry);
      expect(row, `${registered.kind} ${registered.slot}`).toMatchObject({
        kind: registered.kind,
        slot: String(registered.slot),
        block: registered.block ?? '',
        routine: registered.routine,
        owner: registered.owner ?? '',
      });
      const found = result.callbacks.entries.find((c) => c.entry === registered.entry)!;
      expect(row!.verdict).toBe(found.routine.verdict);
      expect(row!.driver).toBe(registered.driver ?? '');
      expect(row!.device).toBe(registered.device ?? '');
    }
    const readme = files.find((f) => f.name === 'README.txt')!.content;
    expect(readme).toContain(
      `\r\n  ${'callbacks.csv'.padEnd(20)}${truthCallbackEntries(truth).length} rows\r\n`,
    );
    expect(readme).toContain('callbacks.csv: each row is one registered notify routine or callback.');
    expect(readme).toContain('  owner: the module holding the routine');
  });

  test('a hostile component name is shown, never run', () => {
    const altered = throughJson(result);
    altered.callbacks.entries[0]!.component = '=HYPERLINK("http://x")\u202e';
    const rows = csvRows(csvReportFiles(altered), 'callbacks.csv');
    expect(rows[0]!.component).toBe('\'=HYPERLINK("http://x")\\u202e');
  });
});
