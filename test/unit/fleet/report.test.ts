// The fleet report from summaries: exit codes (0 all match, 1 differences or not done, 2 errors),
// one row per image (the latest submission), and every rendering — text, HTML, CSV — with the
// image's strings made inert.

import { unzipSync } from 'fflate';
import { describe, expect, test } from 'vitest';
import { renderFleetReport, renderFleetStatus } from '../../../src/cli/render-fleet';
import { buildFleetReport, type JobView } from '../../../src/fleet/report';
import { fleetReportHtml } from '../../../src/fleet/report-html';
import { fleetCsvZip } from '../../../src/fleet/report-csv';
import {
  BASELINE_SUMMARY_SCHEMA,
  HOST_SUMMARY_SCHEMA,
  type BaselineSummary,
  type HostSummary,
} from '../../../src/fleet/types';

const HOSTILE = 'evil\u202egpj.exe\u0007\u001b[31m<img src=x onerror=alert(1)>';
const SHOWN = 'evil\\u202egpj.exe\\u0007\\u001b[31m';
const HIDDEN =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

const run = {
  worker: 'w',
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: '2026-01-01T00:00:01Z',
  engine: 'e',
};
const system = { name: 'Windows 10 2004', number: 19041, arch: 'x64' as const };
const zero = { info: 0, low: 0, medium: 0, high: 0, critical: 0 };

const baseline: BaselineSummary = {
  schema: BASELINE_SUMMARY_SCHEMA,
  jobId: 'b-1',
  fleet: 'f',
  image: '/g/image.raw',
  label: 'golden',
  submittedAt: '1',
  state: 'done',
  error: null,
  system,
  findings: 2,
  files: { analysis: 'baselines/b-1/analysis.json' },
  run,
};

function host(label: string, over: Partial<HostSummary> = {}): HostSummary {
  return {
    schema: HOST_SUMMARY_SCHEMA,
    jobId: `h-${label}`,
    fleet: 'f',
    image: `/h/${label}`,
    label,
    submittedAt: '1',
    state: 'done',
    error: null,
    system,
    baseline: { jobId: 'b-1', image: '/g/image.raw', label: 'golden' },
    alone: null,
    unrelated: null,
    comparison: { differences: 0, variations: 3, bySeverity: zero, warnings: [] },
    differences: [],
    findings: { total: 1, bySeverity: { ...zero, info: 1 }, byKind: { 'stale-driver': 1 }, top: null },
    evidence: [],
    files: { analysis: `hosts/h-${label}/analysis.json`, diff: `hosts/h-${label}/diff.json` },
    run,
    ...over,
  };
}

const infected = (label: string): HostSummary =>
  host(label, {
    comparison: { differences: 1, variations: 0, bySeverity: { ...zero, critical: 1 }, warnings: [] },
    differences: [
      {
        kind: 'driver',
        change: 'added',
        key: `\\Driver\\${HOSTILE}`,
        severity: 'critical',
        summary: `=cmd|' /C calc'!A0 ${HOSTILE}`,
        findings: [{ kind: 'hidden-driver', severity: 'critical', subject: `\\Driver\\${HOSTILE}` }],
      },
    ],
    findings: {
      total: 3,
      bySeverity: { ...zero, critical: 1, info: 2 },
      byKind: { 'hidden-driver': 1, 'stale-driver': 2 },
      top: {
        severity: 'critical',
        kind: 'hidden-driver',
        subject: `\\Driver\\${HOSTILE}`,
        explanation: HOSTILE,
      },
    },
    evidence: [
      {
        key: 'added-driver|1|2|3',
        kind: 'added-driver',
        label: `added driver ${HOSTILE}`,
        severity: 'critical',
      },
    ],
  });

const view = <S extends HostSummary | BaselineSummary>(summary: S): JobView<S> => ({
  image: summary.image,
  label: summary.label,
  submittedAt: summary.submittedAt,
  state: summary.state,
  summary,
  error: summary.error,
});

const queued = (label: string): JobView<HostSummary> => ({
  image: `/h/${label}`,
  label,
  submittedAt: '1',
  state: 'queued',
  summary: null,
  error: null,
});

describe('exit codes', () => {
  test('0 when every host matches its baseline', () => {
    expect(buildFleetReport('f', [view(baseline)], [view(host('a')), view(host('b'))]).exitCode).toBe(0);
  });
  test('1 with differences, a host without baseline, or a host not done yet', () => {
    expect(buildFleetReport('f', [view(baseline)], [view(host('a')), view(infected('b'))]).exitCode).toBe(1);
    const alone = host('a', { baseline: null, alone: 'no baseline was given', comparison: null });
    expect(buildFleetReport('f', [], [view(alone)]).exitCode).toBe(1);
    expect(buildFleetReport('f', [view(baseline)], [view(host('a')), queued('b')]).exitCode).toBe(1);
  });
  test('2 when a host or a baseline failed', () => {
    const failed = host('c', { state: 'failed', error: 'no Windows kernel found', comparison: null });
    expect(buildFleetReport('f', [view(baseline)], [view(infected('b')), view(failed)]).exitCode).toBe(2);
    const badBaseline = { ...baseline, state: 'failed' as const, error: 'truncated' };
    expect(buildFleetReport('f', [view(badBaseline)], [view(host('a'))]).exitCode).toBe(2);
  });
});

describe('warnings', () => {
  test('a baseline no host was compared with, while hosts were analysed alone, is said', () => {
    const win7 = { name: 'Windows 7 SP1', number: 7601, arch: 'x86' as const };
    const alone = host('a', { system: win7, baseline: null, alone: 'no baseline of …', comparison: null });
    const report = buildFleetReport('f', [view(baseline)], [view(alone)]);
    expect(report.warnings).toEqual([
      'no host is of the build of baseline golden (Windows 10 2004 (19041, x64)); 1 host was analysed alone: Windows 7 SP1 (7601, x86)',
    ]);
    expect(renderFleetReport(report)).toContain(`warning: ${report.warnings[0]}`);
    expect(buildFleetReport('f', [view(baseline)], [view(host('b'))]).warnings).toEqual([]);
  });
});

describe('rows', () => {
  test('one row per image: the latest submission of an image replaces the earlier', () => {
    const earlier = infected('a');
    const later = { ...host('a'), jobId: 'h-a2', submittedAt: '2' };
    const report = buildFleetReport('f', [view(baseline)], [view(later), view(earlier)]);
    expect(report.hosts).toHaveLength(1);
    expect(report.hosts[0]!.differences).toBe(0);
    expect(report.counts).toMatchObject({ hosts: 1, matching: 1, differing: 0 });
  });

  test('the clusters name their hosts and each host its clusters', () => {
    const report = buildFleetReport(
      'f',
      [view(baseline)],
      [view(infected('a')), view(infected('b')), view(host('c'))],
    );
    expect(report.clusters.map((c) => c.hosts)).toEqual([['a', 'b']]);
    expect(report.hosts.map((h) => h.clusters)).toEqual([['C1'], ['C1'], []]);
    expect(report.baselines[0]!.hosts).toBe(3);
  });
});

describe('renderings of hostile strings', () => {
  const report = buildFleetReport(
    'f',
    [view(baseline)],
    [
      view(infected(`x${HOSTILE}`)),
      view(infected('y')),
      view(host('z', { state: 'failed', error: HOSTILE })),
    ],
  );

  test('text: no control, bidi or invisible character reaches the terminal', () => {
    const text = renderFleetReport(report);
    expect(text).not.toMatch(HIDDEN);
    expect(text).toContain(SHOWN);
  });

  test('HTML: markup from the image is text, and no script can run', () => {
    const html = fleetReportHtml(report);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(HIDDEN);
  });

  test('CSV: inert fields, no formula, one file per table', () => {
    const files = unzipSync(fleetCsvZip(report, '2026-01-01T00:00:00Z'));
    expect(Object.keys(files).sort()).toEqual([
      'README.txt',
      'baselines.csv',
      'clusters.csv',
      'differences.csv',
      'hosts.csv',
    ]);
    const differences = Buffer.from(files['differences.csv']!).toString('utf8');
    expect(differences).toContain(`,'=cmd|' /C calc'!A0 ${SHOWN}`);
    // CR LF ends every record; no other control character may appear.
    for (const content of Object.values(files))
      expect(Buffer.from(content).toString('utf8').replace(/\r\n/g, '\n')).not.toMatch(HIDDEN);
  });

  test('status: worker names and labels are inert too', () => {
    const text = renderFleetStatus(
      {
        fleet: 'f',
        redis: 'redis://:***@h:1',
        counts: { total: 3, queued: 1, active: 1, done: 1, failed: 0 },
        active: [HOSTILE],
        throughput: [
          { worker: HOSTILE, jobs: 1, imagesPerMinute: 2, lastFinishedAt: '2026-01-01T00:00:00.000Z' },
        ],
        connectedWorkers: 1,
        etaSeconds: 90,
      },
      true,
    );
    expect(text).not.toMatch(HIDDEN);
    expect(text).toContain('[##########--------------------] 1/3 finished');
    expect(text).toContain('about 1 min 30 s to go');
  });
});
