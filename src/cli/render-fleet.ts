// `irpscope fleet` and `irpscope worker` as text: the report (hosts, baselines, clusters), the
// status with its progress bar, what a submit did. Host labels, differences and findings quote
// file names and driver names: every line goes through terminalText.

import {
  hostStatus,
  severityPhrase,
  systemText,
  type ClusterRow,
  type FleetReport,
  type FleetStatus,
  type HostRow,
} from '../common/fleet';
import { visibleText } from '../common/visible-text';
import { terminalText } from './terminal-text';

function clip(text: string, width: number): string {
  const visible = visibleText(text);
  return visible.length > width ? `${visible.slice(0, width - 1)}…` : visible;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function hostWidth(report: FleetReport): number {
  return Math.min(40, Math.max(4, ...report.hosts.map((h) => visibleText(h.label).length)));
}

function differencesCell(host: HostRow): string {
  if (host.state !== 'done') return '—';
  if (host.baseline === null) return 'not compared';
  if (host.unrelated !== null) return 'another system';
  return host.differences === 0 ? 'none' : `${host.differences} (${severityPhrase(host.bySeverity)})`;
}

function hostLines(host: HostRow, width: number, baselines: number): string[] {
  const top = host.findings.top;
  const line = [
    clip(host.label, width).padEnd(width),
    hostStatus(host).padEnd(9),
    clip(host.system ? systemText(host.system) : '—', 30).padEnd(30),
    clip(differencesCell(host), 34).padEnd(34),
    (host.clusters.join(' ') || '—').padEnd(8),
    host.state === 'done'
      ? `${host.findings.total}${top ? ` (top: ${top.severity} ${top.kind} ${clip(top.subject, 40)})` : ''}`
      : '',
  ]
    .join('  ')
    .trimEnd();
  const notes: string[] = [];
  // With one baseline the header names it; with several, each host says which.
  if (host.baseline !== null && host.state === 'done' && baselines > 1)
    notes.push(`baseline ${visibleText(host.baseline)}`);
  if (host.alone) notes.push(`alone: ${visibleText(host.alone)}`);
  if (host.unrelated) notes.push(visibleText(host.unrelated));
  if (host.error) notes.push(`error: ${visibleText(host.error)}`);
  return [line, ...notes.map((n) => `${' '.repeat(width + 2)}${n}`)];
}

function clusterLines(cluster: ClusterRow): string[] {
  return [
    `${cluster.id}  ${plural(cluster.hosts.length, 'host')}, ${cluster.severity}: ${cluster.hosts.map(visibleText).join(', ')}`,
    ...cluster.evidence.map((e) => `      ${e.severity.padEnd(8)}  ${visibleText(e.label)}`),
  ];
}

export function renderFleetReport(report: FleetReport): string {
  const c = report.counts;
  const pending = c.queued + c.active;
  const out = [
    `fleet ${visibleText(report.fleet)}: ${plural(c.hosts, 'host')} — ${c.matching} match their baseline, ${c.differing} differ, ${c.alone} analysed alone, ${c.failed} failed${pending ? `, ${pending} not done yet` : ''}`,
  ];
  for (const b of report.baselines)
    out.push(
      `baseline ${visibleText(b.label)}  ${b.state === 'done' ? systemText(b.system) : b.state}  ${plural(b.hosts, 'host')} compared` +
        (b.error ? `  error: ${visibleText(b.error)}` : ''),
    );
  if (report.baselines.length === 0) out.push('no baseline: every host is analysed alone');
  for (const warning of report.warnings) out.push(`warning: ${visibleText(warning)}`);
  const width = hostWidth(report);
  out.push(
    '',
    [
      'HOST'.padEnd(width),
      'STATUS'.padEnd(9),
      'BUILD'.padEnd(30),
      'DIFFERENCES'.padEnd(34),
      'CLUSTERS',
      'FINDINGS',
    ].join('  '),
  );
  for (const host of report.hosts) out.push(...hostLines(host, width, report.baselines.length));
  out.push('');
  if (report.clusters.length === 0) out.push('No two hosts share a difference from their baselines.');
  else {
    out.push(`Clusters: hosts that share a difference (${report.clusters.length}):`);
    for (const cluster of report.clusters) out.push('', ...clusterLines(cluster));
  }
  return terminalText(`${out.join('\n')}\n`);
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "[#######-----------]" for `done` of `total`, `width` characters inside the brackets. */
export function progressBar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

export function renderFleetStatus(status: FleetStatus, terminal: boolean): string {
  const c = status.counts;
  const finished = c.done + c.failed;
  const lines = [
    `fleet ${visibleText(status.fleet)} on ${status.redis}`,
    `${terminal ? `${progressBar(finished, c.total)} ` : ''}${finished}/${c.total} finished: ${c.done} done, ${c.failed} failed, ${c.active} active, ${c.queued} queued` +
      (status.etaSeconds !== null ? `; about ${duration(status.etaSeconds)} to go` : ''),
  ];
  if (status.active.length) lines.push(`active: ${status.active.map(visibleText).join(', ')}`);
  lines.push(`workers connected to the queue: ${status.connectedWorkers}`);
  if (status.throughput.length) {
    const width = Math.max(6, ...status.throughput.map((t) => visibleText(t.worker).length));
    lines.push(
      '',
      `${'WORKER'.padEnd(width)}  ${'JOBS'.padStart(5)}  ${'IMAGES/MIN'.padStart(10)}  LAST FINISHED`,
    );
    for (const t of status.throughput)
      lines.push(
        `${visibleText(t.worker).padEnd(width)}  ${String(t.jobs).padStart(5)}  ${t.imagesPerMinute.toFixed(1).padStart(10)}  ${t.lastFinishedAt.slice(0, 19).replace('T', ' ')} UTC`,
      );
  }
  return terminalText(`${lines.join('\n')}\n`);
}

export function renderSubmit(result: {
  fleet: string;
  redis: string;
  hosts: { added: number; known: number; retried: number };
  baselines: { added: number; known: number; retried: number };
}): string {
  const part = (what: string, t: { added: number; known: number; retried: number }) =>
    `${plural(t.added, what)} added` +
    (t.known ? `, ${t.known} already there` : '') +
    (t.retried ? `, ${t.retried} failed before and retried` : '');
  return terminalText(
    `fleet ${visibleText(result.fleet)} on ${result.redis}: ${part('host', result.hosts)}; ${part('baseline', result.baselines)}\n`,
  );
}
