import type { AnalysisResult } from '../../common/model';
import type { ReportCase } from './html';

/**
 * The analysis as the CLI's --json prints it: stable key order, two-space indentation. An
 * export from a case adds `case`: the image's identity, the analyst, their notes and annotations.
 */
export function jsonReport(result: AnalysisResult, reportCase?: ReportCase): string {
  return `${JSON.stringify(reportCase ? { ...result, case: reportCase } : result, null, 2)}\n`;
}
