// The fleet report as CSV: one RFC 4180 file per table in a .zip with a README, as the image
// reports are (every field through csvField: untrusted text made inert, formulas neutralised).

import { SEVERITIES } from '../common/findings';
import { hostStatus, systemText, type FleetReport } from '../common/fleet';
import { csvReadme, csvText, zipFiles, type CsvTable, type TextFile } from '../core/report/csv';

type Cell = string | number | boolean | null;

function table(name: string, about: string, columns: Array<[string, string]>, rows: Cell[][]): CsvTable {
  return {
    name,
    about,
    columns: columns.map(([column, meaning]) => ({ name: column, meaning })),
    header: columns.map(([column]) => column),
    rows,
  };
}

const SEVERITY_COLUMNS: Array<[string, string]> = [...SEVERITIES]
  .reverse()
  .map((s) => [`differences_${s}`, `differences of severity ${s}`]);

export function fleetCsvTables(report: FleetReport): CsvTable[] {
  const hosts = table(
    'hosts',
    'one host of the fleet',
    [
      ['host', 'the image, named by its path under the folder submitted'],
      ['image', 'the image file as submitted'],
      [
        'status',
        'matches, differs, unrelated (the baseline is another system), alone (no baseline), failed, queued or active',
      ],
      ['build', 'Windows build and architecture found in the image'],
      ['baseline', 'the baseline it was compared with (empty: none)'],
      ['alone', 'why it was analysed alone'],
      ['differences', 'differences from the baseline (not counting what differs between any two boots)'],
      ...SEVERITY_COLUMNS,
      ['findings', 'findings of the image (with those the baseline has too)'],
      ['top_finding', 'the most severe finding: severity, kind and subject'],
      ['clusters', 'the clusters it belongs to, space-separated (see clusters.csv)'],
      ['error', "why its job failed (the last attempt's one line)"],
    ],
    report.hosts.map((h) => [
      h.label,
      h.image,
      hostStatus(h),
      h.system ? systemText(h.system) : null,
      h.baseline,
      h.alone,
      h.state === 'done' && h.baseline !== null ? h.differences : null,
      ...[...SEVERITIES]
        .reverse()
        .map((s) => (h.state === 'done' && h.baseline !== null ? h.bySeverity[s] : null)),
      h.state === 'done' ? h.findings.total : null,
      h.findings.top ? `${h.findings.top.severity} ${h.findings.top.kind} ${h.findings.top.subject}` : null,
      h.clusters.join(' ') || null,
      h.error,
    ]),
  );
  const clusters = table(
    'clusters',
    'one piece of evidence a cluster of hosts shares (a cluster has one row per piece)',
    [
      ['cluster', 'the cluster (C1 is the largest)'],
      ['hosts', 'how many hosts it holds'],
      ['members', 'its hosts, space-separated'],
      ['evidence_kind', 'added-driver, hooked-entry, patched-service or other'],
      ['evidence', 'what they share'],
      ['severity', 'how grave that difference is'],
    ],
    report.clusters.flatMap((c) =>
      c.evidence.map((e) => [c.id, c.hosts.length, c.hosts.join(' '), e.kind, e.label, e.severity]),
    ),
  );
  const differences = table(
    'differences',
    'one difference of a host from its baseline',
    [
      ['host', 'the host'],
      ['severity', 'how grave'],
      ['kind', 'driver, stack, device, module, link, service or process'],
      ['change', 'added, removed or changed'],
      ['object', "the object's identity"],
      ['summary', 'what changed'],
      ['findings', 'the findings it explains: kind and subject, separated by " | "'],
    ],
    report.hosts.flatMap((h) =>
      h.differenceList.map((d) => [
        h.label,
        d.severity,
        d.kind,
        d.change,
        d.key,
        d.summary,
        d.findings.map((f) => `${f.kind} ${f.subject}`).join(' | ') || null,
      ]),
    ),
  );
  const baselines = table(
    'baselines',
    'one baseline (golden image) of the fleet',
    [
      ['baseline', 'the image as submitted'],
      ['state', 'done, failed, queued or active'],
      ['build', 'Windows build and architecture'],
      ['hosts', 'hosts compared with it'],
      ['error', 'why its job failed'],
    ],
    report.baselines.map((b) => [b.label, b.state, b.system ? systemText(b.system) : null, b.hosts, b.error]),
  );
  return [hosts, clusters, differences, baselines];
}

export function fleetCsvFiles(report: FleetReport, generatedAt: string): TextFile[] {
  const tables = fleetCsvTables(report);
  return [
    {
      name: 'README.txt',
      content: csvReadme(tables, {
        label: `fleet ${report.fleet}`,
        generatedBy: 'irpscope fleet report',
        generatedAt,
      }),
    },
    ...tables.map((t) => ({ name: `${t.name}.csv`, content: csvText(t) })),
  ];
}

export function fleetCsvZip(report: FleetReport, generatedAt: string): Uint8Array {
  return zipFiles(fleetCsvFiles(report, generatedAt), generatedAt);
}
