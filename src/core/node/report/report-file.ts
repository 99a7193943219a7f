// Any report of one analysis, PDF included: the PDF is the HTML report printed by Chromium.

import type { ReportFile, ReportFormat } from '../../../common/api';
import type { AnalysisResult } from '../../../common/model';
import { htmlReport, makeReport, reportBaseName, type ReportOptions } from '../../report';
import { printPdf } from './pdf';

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
