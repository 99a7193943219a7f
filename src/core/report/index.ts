// Reports of one analysis in the formats the workbench exports and the CLI writes.

import type { DiffResult, ReportFile, ReportFormat } from '../../common/api';
import type { AnalysisResult } from '../../common/model';
import { csvBundle } from './csv';
import { htmlReport } from './html';
import { jsonReport } from './json';

export { csvBundle, csvTables, csvText } from './csv';
export { escapeHtml, visibleText, csvField } from './escape';
export { htmlReport } from './html';
export { jsonReport } from './json';

/** A file-system-safe base name for reports of `label` (the image's file name or the demo's label). */
export function reportBaseName(label: string): string {
  const fileName = label.split(/[\\/]/).pop() ?? '';
  const base = fileName
    .replace(/\.[^.]*$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `irpscope-${base || 'image'}`;
}

export function makeReport(
  result: AnalysisResult,
  format: ReportFormat,
  options: { label: string; diff?: DiffResult; generatedBy?: string },
): ReportFile {
  const base = reportBaseName(options.label);
  switch (format) {
    case 'html':
      return { fileName: `${base}.html`, mimeType: 'text/html', content: htmlReport(result, options) };
    case 'json':
      return { fileName: `${base}.json`, mimeType: 'application/json', content: jsonReport(result) };
    case 'csv':
      return { fileName: `${base}.csv`, mimeType: 'text/csv', content: csvBundle(result) };
  }
}
