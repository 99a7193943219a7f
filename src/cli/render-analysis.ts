// `irpscope analyze` as text: a summary with the findings, or one table.

import { COVERED_PARTS, type AnalysisResult, type Coverage } from '../common/model';
import { countPhrase, countsOf, coverageReasons, findingsHeadline } from '../common/counts';
import { csvTables, visibleText } from '../core/report';
import type { CsvTable } from '../core/report/csv';
import { callbacksSummary, callbacksTable } from './callbacks-table';
import { terminalText } from './terminal-text';

import { TABLES, type TableName } from './table-names';

export { TABLES, type TableName };

export function tableOf(result: AnalysisResult, name: TableName): CsvTable {
  if (name === 'callbacks') return callbacksTable(result);
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
  const n = countsOf(result);
  const c = result.coverage;
  const lines = [
    `${visibleText(info.path)}: ${info.format.description}`,
    `${info.build?.value.name ?? 'unknown Windows'} (build ${info.build?.value.number ?? '?'}) ${info.arch ?? ''}${info.paging === 'pae' ? ' PAE' : ''}, kernel at ${info.kernelBase?.value ?? '?'}, layouts: ${info.profile ? `${info.profile.source} ${info.profile.name}` : 'none'}`,
    [
      countPhrase(n.drivers, 'drivers', c.drivers, `+${n.unloadedDrivers} unloaded`),
      countPhrase(n.devices, 'devices', c.devices),
      countPhrase(n.modules, 'modules', c.modules, judged(n.unlinkedModules, 'unlinked', c.modules)),
      countPhrase(n.links, 'links', c.links),
    ].join(', '),
    result.serviceTable
      ? `system-service table: ${result.serviceTable.limit} services at ${result.serviceTable.base} (${result.serviceTable.method}), ${n.suspiciousServices} hooked or patched${c.services.state === 'partial' ? ' (partial)' : ''}`
      : 'system-service table: not available',
    callbacksSummary(result),
    [
      countPhrase(n.processes, 'processes', c.processes, judged(n.hiddenProcesses, 'hidden', c.processes)),
      countPhrase(n.threads, 'threads', c.threads),
      countPhrase(n.irps, 'irps', c.irps),
    ].join(', '),
    `${result.stats.poolHits} pool hits in ${(result.stats.bytesScanned / 2 ** 20).toFixed(0)} MiB scanned on ${result.stats.workers} worker${result.stats.workers === 1 ? '' : 's'}`,
  ];
  for (const reason of coverageReasons(
    result,
    COVERED_PARTS.filter((p) => p !== 'findings'),
  ))
    lines.push(
      `  ${reason.parts.join(', ')} ${reason.state === 'partial' ? 'partial' : 'not available'}: ${visibleText(reason.reason)}`,
    );
  lines.push('', visibleText(findingsHeadline(result)));
  const kindWidth = Math.max(16, ...result.findings.map((f) => f.kind.length));
  for (const finding of result.findings) {
    lines.push(
      `  ${finding.severity.toUpperCase().padEnd(8)} ${finding.kind.padEnd(kindWidth)} ${visibleText(finding.subject)}`,
    );
    lines.push(`           ${visibleText(finding.explanation)}`);
  }
  for (const warning of info.warnings) lines.push(`warning: ${visibleText(warning)}`);
  // The path, format and layout names too (a file or ISF name can hold anything).
  return terminalText(`${lines.join('\n')}\n`);
}

/** "3 hidden"; a zero is only said when the judgement could be made on the whole part. */
function judged(count: number, what: string, coverage: Coverage): string | undefined {
  return count > 0 || coverage.state === 'complete' ? `${count} ${what}` : undefined;
}
