// The CLI's text renderers with a hostile string in every field that can come from an image (or a
// file name): no control, bidi or invisible character reaches the text, each shows as \uXXXX, and
// padded columns stay aligned.

import { describe, expect, test } from 'vitest';
import type { DiffResult } from '../../../src/common/api';
import type { ImageInfo } from '../../../src/common/model';
import type { Extraction } from '../../../src/core/extract';
import { renderDiff } from '../../../src/cli/render-diff';
import { renderExtraction } from '../../../src/cli/render-extract';
import { renderInfo } from '../../../src/cli/render-info';
import { renderSummary } from '../../../src/cli/render-analysis';
import { analyzeImage } from '../../../src/core/node/analyze';
import { imageForSuite } from '../../support/images';

// A right-to-left override, BEL, an ANSI colour, the C1 CSI, a zero-width space.
const HOSTILE = 'evil\u202egpj.exe\u0007\u001b[31m\u009b2J\u200b';
const SHOWN = 'evil\\u202egpj.exe\\u0007\\u001b[31m\\u009b2J\\u200b';
const HIDDEN =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

function expectInert(text: string, times: number): void {
  expect(text).not.toMatch(HIDDEN);
  expect(text.split(SHOWN).length - 1).toBe(times);
}

describe('terminal text of image strings', () => {
  test('info: the path, format, PDB, layouts, triage modules and warnings', () => {
    const found = <T>(value: T) => ({ value, method: `found by ${HOSTILE}` });
    const info: ImageInfo = {
      schema: 'irpscope-info/1',
      path: `/cases/${HOSTILE}`,
      fileSize: 4096,
      format: { id: 'raw', description: HOSTILE, details: {} },
      physical: { runs: 1, bytes: 4096, maxAddress: '0x1000' },
      arch: 'x64',
      paging: 'x64',
      dtb: found('0x1aa000'),
      kernelBase: found('0xfffff80000000000'),
      kernelSize: 0x100000,
      build: found({ number: 19041, major: 10, minor: 0, name: HOSTILE }),
      pdb: { name: HOSTILE, guid: '0123', age: 1 },
      kdbg: null,
      psLoadedModuleList: null,
      psActiveProcessHead: null,
      objectRootDirectory: null,
      obHeaderCookie: null,
      typeIndex: null,
      profile: { source: 'isf', name: HOSTILE, path: HOSTILE },
      triage: { note: HOSTILE, modules: [{ name: HOSTILE, path: HOSTILE, base: '0x1000', size: 4096 }] },
      timings: [],
      bytesRead: 0,
      warnings: [HOSTILE],
    };
    // path, format, 3 methods, build, PDB, layouts (name and path), triage note and module, warning
    expectInert(renderInfo(info), 12);
  });

  test('extract: the label, the output name, section names, imports, where pages are missing, notes', () => {
    const extraction: Extraction = {
      layout: 'pe',
      base: 0x8a3bd000n,
      bytes: new Uint8Array(0x400),
      sha256: '0'.repeat(64),
      machine: 'x86',
      sizeOfImage: 0x2000,
      entryPoint: 0x1000,
      timeDateStamp: 0,
      sections: [
        {
          name: HOSTILE,
          virtualAddress: 0x1000,
          virtualSize: 0x1000,
          pointerToRawData: 0x400,
          sizeOfRawData: 0x1000,
          characteristics: 0,
        },
        {
          name: '.data',
          virtualAddress: 0x2000,
          virtualSize: 0x1000,
          pointerToRawData: 0x1400,
          sizeOfRawData: 0x1000,
          characteristics: 0,
        },
      ],
      imports: [HOSTILE],
      missing: [{ rva: 0x1000, size: 0x1000, where: HOSTILE, status: HOSTILE }],
      notes: [HOSTILE],
      label: `driver \\Driver\\${HOSTILE}`,
      fileName: 'x.sys',
    };
    const text = renderExtraction(extraction, HOSTILE);
    // label and output name, section, imports, where and why a page is missing, note
    expectInert(text, 7);
    // The section table stays a table: the columns after the name line up.
    const rows = text.split('\n').filter((line) => line.includes('0x1000 ') && line.includes('0x400'));
    const data = text.split('\n').find((line) => line.startsWith('  .data'))!;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.length - rows[0]!.indexOf('0x1000')).toBe(data.length - data.indexOf('0x2000'));
  });

  test('diff: image labels, builds, warnings, an unrelated system, keys, findings, changes', () => {
    const diff = (unrelated: string | null): DiffResult => ({
      schema: 'irpscope-diff/1',
      baseline: HOSTILE,
      primary: HOSTILE,
      compatibility: {
        baselineBuild: HOSTILE,
        primaryBuild: HOSTILE,
        sameBuild: false,
        warnings: [HOSTILE],
        unrelated,
      },
      entries: [
        {
          id: 'driver:x',
          kind: 'driver',
          change: 'changed',
          key: HOSTILE,
          severity: 'high',
          summary: HOSTILE,
          why: HOSTILE,
          matchedBy: [{ fact: 'name', name: HOSTILE }],
          unknown: [{ fact: 'numbered-name', side: 'image', name: HOSTILE }],
          changes: [{ what: HOSTILE, baseline: HOSTILE, primary: HOSTILE, severity: 'high' }],
          findings: { added: [HOSTILE], removed: [] },
          baseline: null,
          primary: null,
          variation: null,
        },
      ],
      pairs: { drivers: [], devices: [], modules: [] },
      counts: {
        differences: 1,
        variations: 0,
        bySeverity: { info: 0, low: 0, medium: 0, high: 1, critical: 0 },
        drivers: { baseline: 1, primary: 1, matched: 1 },
      },
    });
    expect(renderDiff(diff(HOSTILE))).not.toMatch(HIDDEN);
    expect(renderDiff(diff(HOSTILE))).toContain(SHOWN);
    const text = renderDiff(diff(null));
    expect(text).not.toMatch(HIDDEN);
    // labels, builds, warning; key, why, paired by, unknown, finding; the change's three columns are clipped
    expect(text.split(SHOWN).length - 1).toBeGreaterThanOrEqual(10);
  });

  test('diff: the key column starts at the same place for every kind and change', () => {
    const entry = (kind: 'driver' | 'callback', change: 'changed' | 'removed') =>
      ({
        id: `${kind}:${change}`,
        kind,
        change,
        key: `${kind}-key`,
        severity: 'low',
        summary: '',
        why: null,
        matchedBy: [],
        unknown: [],
        changes: [],
        findings: { added: [], removed: [] },
        baseline: null,
        primary: null,
        variation: null,
      }) as unknown as DiffResult['entries'][number];
    const text = renderDiff({
      schema: 'irpscope-diff/1',
      baseline: 'a',
      primary: 'b',
      compatibility: {
        baselineBuild: 'x',
        primaryBuild: 'x',
        sameBuild: true,
        warnings: [],
        unrelated: null,
      },
      entries: [entry('driver', 'changed'), entry('callback', 'removed')],
      pairs: { drivers: [], devices: [], modules: [] },
      counts: {
        differences: 2,
        variations: 0,
        bySeverity: { info: 0, low: 2, medium: 0, high: 0, critical: 0 },
        drivers: { baseline: 1, primary: 1, matched: 1 },
      },
    });
    const starts = text
      .split('\n')
      .filter((l) => l.startsWith('LOW'))
      .map((l) => l.search(/(driver|callback)-key/));
    expect(starts).toHaveLength(2);
    expect(starts[0]).toBe(starts[1]);
  });
});

test("analyze: every finding's subject starts at the same place, however long its kind", async () => {
  const { image } = imageForSuite({
    profile: 'win7-sp1-x86',
    format: 'raw',
    scenario: 'infected',
    size: 64 * 1024 * 1024,
    seed: 1,
    fill: 'zero',
  });
  const result = await analyzeImage(image);
  const lines = renderSummary(result).split('\n');
  expect(result.findings.some((f) => f.kind.length > 16)).toBe(true);
  // The column after severity and kind: where the subject of each finding's line begins.
  const subjects = result.findings.map((f) => {
    const line = lines.find((l) => l.startsWith(`  ${f.severity.toUpperCase().padEnd(8)} ${f.kind} `))!;
    return (
      line.length - line.slice(`  ${f.severity.toUpperCase().padEnd(8)} ${f.kind}`.length).trimStart().length
    );
  });
  expect(new Set(subjects).size).toBe(1);
});
