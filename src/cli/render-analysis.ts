// `irpscope analyze` as text: a summary with the findings, or one table.

import { isSuspiciousVerdict } from '../common/findings';
import type { AnalysisResult } from '../common/model';
import { csvTables, visibleText } from '../core/report';
import type { CsvTable } from '../core/report/csv';
import { terminalText } from './terminal-text';

export const TABLES = [
  'drivers',
  'devices',
  'irp',
  'ssdt',
  'modules',
  'processes',
  'threads',
  'pending-irps',
  'findings',
  'links',
] as const;
export type TableName = (typeof TABLES)[number];

export function tableOf(result: AnalysisResult, name: TableName): CsvTable {
  const table = csvTables(result).find((t) => t.name === name);
  if (!table) throw new Error(`no table ${name}`);
  return table;
}

/** An aligned text table; image strings shown with control characters made visible. */
export function renderTable(table: CsvTable, maxWidth = 60): string {
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? '' : visibleText(String(value));
    return text.length > maxWidth ? `${text.slice(0, maxWidth - 1)}…` : text;
  };
  const rows = [table.header, ...table.rows.map((row) => row.map(cell))];
  const widths = table.header.map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  const line = (row: unknown[]) =>
    row
      .map((c, i) => String(c ?? '').padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return `${[line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n')}\n`;
}

export function renderSummary(result: AnalysisResult): string {
  const info = result.image;
  const live = result.drivers.filter((d) => d.state === 'live');
  const lines = [
    `${info.path}: ${info.format.description}`,
    `${info.build?.value.name ?? 'unknown Windows'} (build ${info.build?.value.number ?? '?'}) ${info.arch ?? ''}${info.paging === 'pae' ? ' PAE' : ''}, kernel at ${info.kernelBase?.value ?? '?'}, layouts: ${info.profile ? `${info.profile.source} ${info.profile.name}` : 'none'}`,
    `${live.length} drivers (${result.drivers.length - live.length} freed), ${result.devices.length} devices, ${result.modules.length} modules (${result.modules.filter((m) => m.unlinked).length} unlinked), ${result.links.length} symbolic links`,
    result.serviceTable
      ? `system-service table: ${result.serviceTable.limit} services at ${result.serviceTable.base} (${result.serviceTable.method}), ${result.serviceTable.entries.filter((e) => isSuspiciousVerdict(e.verdict)).length} hooked or patched`
      : 'system-service table: not found',
    `${result.processes.length} processes (${result.processes.filter((p) => p.hidden).length} hidden), ${result.threads.length} threads, ${result.irps.length} IRPs in flight`,
    `${result.stats.poolHits} pool hits in ${(result.stats.bytesScanned / 2 ** 20).toFixed(0)} MiB scanned on ${result.stats.workers} worker${result.stats.workers === 1 ? '' : 's'}`,
    '',
  ];
  if (result.findings.length === 0) lines.push('No findings.');
  else lines.push(`Findings (${result.findings.length}):`);
  for (const finding of result.findings) {
    lines.push(
      `  ${finding.severity.toUpperCase().padEnd(8)} ${finding.kind.padEnd(16)} ${visibleText(finding.subject)}`,
    );
    lines.push(`           ${visibleText(finding.explanation)}`);
  }
  for (const warning of info.warnings) lines.push(`warning: ${visibleText(warning)}`);
  // The path, format and layout names too (a file or ISF name can hold anything).
  return terminalText(`${lines.join('\n')}\n`);
}
