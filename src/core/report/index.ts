// Reports of one analysis in the formats the workbench exports and the CLI writes (a PDF is this
// HTML printed: node/report/report-file.ts).

import type { ReportFile, ReportFormat } from '../../common/api';
import type { AnalysisResult } from '../../common/model';
import { csvReportFiles, zipFiles } from './csv';
import { htmlReport, type HtmlReportOptions } from './html';
import { jsonReport } from './json';
import { fileNameOf } from '../util/file-name';

export {
  csvReadme,
  csvReportFiles,
  csvReportTables,
  csvTables,
  csvText,
  zipFiles,
  type CsvColumn,
  type CsvReportOptions,
  type CsvTable,
  type TextFile,
} from './csv';
export { escapeHtml, visibleText, csvField } from './escape';
export { htmlReport, type HtmlReportOptions } from './html';
export {
  hashStatement,
  markSubject,
  marks,
  reportTime,
  windowsBuild,
  type MarkSubject,
  type ReportBaseline,
  type ReportCase,
  type Sha256Facts,
  type Sha256State,
} from './case';
export { flowSvg } from './flow-svg';
export { jsonReport, type JsonReportOptions } from './json';

/** A file-system-safe base name for reports of `label` (the image's file name or the demo's label). */
export function reportBaseName(label: string): string {
  const base = fileNameOf(label)
    .replace(/\.[^.]*$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `irpscope-${base || 'image'}`;
}

export type ReportOptions = HtmlReportOptions & { label: string };

/** A report made here (HTML, JSON, and CSV as a .zip); a PDF needs a printer (makeReportFile). */
export function makeReport(
  result: AnalysisResult,
  format: Exclude<ReportFormat, 'pdf'>,
  options: ReportOptions,
): ReportFile {
  const base = reportBaseName(options.label);
  switch (format) {
    case 'html':
      return { fileName: `${base}.html`, mimeType: 'text/html', content: htmlReport(result, options) };
    case 'json':
      return {
        fileName: `${base}.json`,
        mimeType: 'application/json',
        content: jsonReport(result, options),
      };
    case 'csv': {
      // One file per table, delivered as one archive; `files` carries them as text for a preview.
      const files = csvReportFiles(result, options);
      return {
        fileName: `${base}.zip`,
        mimeType: 'application/zip',
        content: Buffer.from(zipFiles(files, options.generatedAt)).toString('base64'),
        encoding: 'base64',
        files,
      };
    }
  }
}
