// Reports of one analysis in the formats the workbench exports and the CLI writes.

import type { ReportFile, ReportFormat } from '../../common/api';
import type { AnalysisResult } from '../../common/model';
import { csvBundle } from './csv';
import { htmlReport, type HtmlReportOptions } from './html';
import { jsonReport } from './json';
import { printPdf } from './pdf';

export { csvBundle, csvTables, csvText } from './csv';
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
export { PdfError, findChromium, printPdf } from './pdf';
export { flowSvg } from './flow-svg';
export { jsonReport, type JsonReportOptions } from './json';

/** A file-system-safe base name for reports of `label` (the image's file name or the demo's label). */
export function reportBaseName(label: string): string {
  const fileName = label.split(/[\\/]/).pop() ?? '';
  const base = fileName
    .replace(/\.[^.]*$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `irpscope-${base || 'image'}`;
}

export type ReportOptions = HtmlReportOptions & { label: string };

/** A text report (HTML, JSON, CSV). */
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
    case 'csv':
      return { fileName: `${base}.csv`, mimeType: 'text/csv', content: csvBundle(result) };
  }
}

/** Any report; a PDF is the HTML printed by `print` (default: a Chromium installed on the machine). */
export async function makeReportFile(
  result: AnalysisResult,
  format: ReportFormat,
  options: ReportOptions & { print?: (html: string) => Promise<Buffer> },
): Promise<ReportFile> {
  if (format !== 'pdf') return makeReport(result, format, options);
  const html = htmlReport(result, options);
  const pdf = await (options.print ?? ((h: string) => printPdf(h)))(html);
  return {
    fileName: `${reportBaseName(options.label)}.pdf`,
    mimeType: 'application/pdf',
    content: Buffer.from(pdf).toString('base64'),
    encoding: 'base64',
  };
}
