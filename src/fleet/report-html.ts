// The fleet report as one self-contained HTML page: no script, a Content-Security-Policy that
// forbids any, every string escaped (host labels are file names, differences and findings quote
// driver names chosen by whoever controlled each host).

import {
  hostStatus,
  severityPhrase,
  systemText,
  type ClusterRow,
  type FleetReport,
  type HostRow,
} from '../common/fleet';
import { escapeHtml } from '../core/report/escape';

const esc = (value: string | number | null | undefined): string =>
  value === null || value === undefined ? '—' : escapeHtml(String(value));

function hostRow(host: HostRow): string {
  const differences =
    host.state !== 'done'
      ? '—'
      : host.baseline === null
        ? `not compared: ${host.alone ?? ''}`
        : (host.unrelated ??
          (host.differences === 0 ? 'none' : `${host.differences} (${severityPhrase(host.bySeverity)})`));
  const top = host.findings.top;
  return `<tr class="st-${hostStatus(host)}"><td>${esc(host.label)}</td><td class="k">${esc(hostStatus(host))}</td>
<td>${host.system ? esc(systemText(host.system)) : '—'}</td><td>${esc(host.baseline)}</td><td>${esc(differences)}</td>
<td>${host.findings.total}${top ? ` — <span class="sev-${esc(top.severity)}">${esc(top.severity)}</span> ${esc(top.kind)} ${esc(top.subject)}` : ''}</td>
<td class="k">${esc(host.clusters.join(' ') || null)}</td><td>${esc(host.error)}</td></tr>`;
}

function clusterBlock(cluster: ClusterRow): string {
  return `<div class="cluster"><h3 id="${esc(cluster.id)}">${esc(cluster.id)}: ${cluster.hosts.length} hosts, <span class="sev-${esc(cluster.severity)}">${esc(cluster.severity)}</span></h3>
<p>${cluster.hosts.map(esc).join(', ')}</p>
<ul>${cluster.evidence.map((e) => `<li><span class="sev-${esc(e.severity)}">${esc(e.severity)}</span> ${esc(e.label)}</li>`).join('')}</ul></div>`;
}

function differencesBlock(host: HostRow): string {
  if (host.differenceList.length === 0) return '';
  const rows = host.differenceList
    .map(
      (d) =>
        `<tr><td class="k sev-${esc(d.severity)}">${esc(d.severity)}</td><td class="k">${esc(`${d.kind} ${d.change}`)}</td><td>${esc(d.key)}</td><td>${esc(d.findings.map((f) => f.kind).join(' ') || null)}</td></tr>`,
    )
    .join('\n');
  const more =
    host.differences > host.differenceList.length
      ? `<p class="muted">and ${host.differences - host.differenceList.length} more in its diff.json</p>`
      : '';
  return `<h3>${esc(host.label)}</h3><table><thead><tr><th>severity</th><th>difference</th><th>object</th><th>findings</th></tr></thead><tbody>${rows}</tbody></table>${more}`;
}

const STYLE = `body{font:13px/1.45 system-ui,sans-serif;margin:24px;color:#1b1f24}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ccd} h3{font-size:14px;margin:14px 0 4px}
table{border-collapse:collapse;width:100%;margin:6px 0} th,td{border:1px solid #d5d8de;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef0f4} td{font-size:12px;overflow-wrap:anywhere} td.k{white-space:nowrap}
.sev-critical{color:#a4001d;font-weight:700}.sev-high{color:#c2410c;font-weight:700}.sev-medium{color:#a16207}.sev-low{color:#1d4ed8}.sev-info{color:#555}
tr.st-failed td{background:#fdecec} tr.st-differs td:nth-child(2),tr.st-unrelated td:nth-child(2){color:#a4001d;font-weight:700}
.cluster{border:1px solid #d5d8de;border-left:4px solid #a4001d;border-radius:4px;padding:6px 12px;margin:8px 0}
.cluster ul{margin:4px 0;padding-left:18px} .muted{color:#666}
.warning{background:#fff8e1;border:1px solid #f1d98a;border-radius:4px;padding:4px 8px}`;

export function fleetReportHtml(report: FleetReport): string {
  const c = report.counts;
  const summary = `${c.hosts} hosts: ${c.matching} match their baseline, ${c.differing} differ, ${c.alone} analysed alone, ${c.failed} failed${c.queued + c.active > 0 ? `, ${c.queued + c.active} not done yet` : ''}`;
  const baselines = report.baselines
    .map(
      (b) =>
        `<tr><td>${esc(b.label)}</td><td class="k">${esc(b.state)}</td><td>${b.system ? esc(systemText(b.system)) : '—'}</td><td>${b.hosts}</td><td>${esc(b.error)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>IRPscope fleet report: ${esc(report.fleet)}</title><style>${STYLE}</style></head><body>
<h1>Fleet ${esc(report.fleet)}</h1>
<p>${esc(summary)}. Exit code ${report.exitCode}.</p>
${report.warnings.map((w) => `<p class="warning">warning: ${esc(w)}</p>`).join('\n')}
<h2>Baselines</h2>
${report.baselines.length === 0 ? '<p>No baseline: every host was analysed alone.</p>' : `<table><thead><tr><th>baseline</th><th>state</th><th>build</th><th>hosts compared</th><th>error</th></tr></thead><tbody>${baselines}</tbody></table>`}
<h2>Hosts</h2>
<table><thead><tr><th>host</th><th>status</th><th>build</th><th>baseline</th><th>differences</th><th>findings (top)</th><th>clusters</th><th>error</th></tr></thead><tbody>
${report.hosts.map(hostRow).join('\n')}
</tbody></table>
<h2>Clusters</h2>
${report.clusters.length === 0 ? '<p>No two hosts share a difference from their baselines.</p>' : report.clusters.map(clusterBlock).join('\n')}
<h2>Differences per host</h2>
${report.hosts.map(differencesBlock).join('\n') || '<p>None.</p>'}
</body></html>
`;
}
