// A results folder is read back as the report's source (fleet report --results, the workbench):
// summaries that do not fit their schema — damaged, or naming result files outside the fleet's
// folder — are skipped with the reason, never used.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ResultsFolder } from '../../../src/fleet/results';
import { HOST_SUMMARY_SCHEMA, type HostSummary } from '../../../src/fleet/types';

const zero = { info: 0, low: 0, medium: 0, high: 0, critical: 0 };
const ID = `h-${'a'.repeat(32)}`;

function summary(over: Partial<HostSummary> = {}): HostSummary {
  return {
    schema: HOST_SUMMARY_SCHEMA,
    jobId: ID,
    fleet: 'lab',
    image: '/e/pc-01.raw',
    label: 'pc-01.raw',
    submittedAt: '2026-01-01T00:00:00.000Z',
    state: 'done',
    error: null,
    system: { name: 'Windows 10 2004', number: 19041, arch: 'x64' },
    baseline: null,
    alone: 'no baseline was given',
    unrelated: null,
    comparison: null,
    differences: [],
    findings: { total: 0, bySeverity: zero, byKind: {}, top: null },
    evidence: [],
    files: { analysis: `hosts/${ID}/analysis.json`, diff: null },
    run: { worker: 'w', startedAt: '', finishedAt: '', engine: '' },
    ...over,
  };
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'irpscope-fleet-results-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function put(id: string, content: string): void {
  mkdirSync(join(root, 'lab', 'hosts', id), { recursive: true });
  writeFileSync(join(root, 'lab', 'hosts', id, 'summary.json'), content);
}

describe('ResultsFolder.readSummaries', () => {
  test('a good summary is read; damaged ones and ones pointing outside the fleet are skipped', () => {
    put(ID, JSON.stringify(summary()));
    put(
      `h-${'b'.repeat(32)}`,
      JSON.stringify(summary({ files: { analysis: '../../../etc/passwd', diff: null } })),
    );
    put(`h-${'c'.repeat(32)}`, JSON.stringify(summary({ fleet: '../other' })));
    put(`h-${'d'.repeat(32)}`, '{"schema": "irpscope-fleet-host/1", "jobId": ');
    const read = new ResultsFolder(root).readSummaries('lab');
    expect(read.hosts.map((h) => h.jobId)).toEqual([ID]);
    expect(read.skipped.map((s) => s.split(':')[0])).toEqual([
      `hosts/h-${'b'.repeat(32)}/summary.json`,
      `hosts/h-${'c'.repeat(32)}/summary.json`,
      `hosts/h-${'d'.repeat(32)}/summary.json`,
    ]);
  });

  test('a folder that cannot take a file is said before any work', () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect(() => new ResultsFolder(file).check()).toThrow(
      `cannot write results to ${file}: it is not a folder`,
    );
    expect(() => new ResultsFolder(join(file, 'below')).check()).toThrow(
      `cannot write results to ${join(file, 'below')}: a part of its path is not a folder`,
    );
  });
});
