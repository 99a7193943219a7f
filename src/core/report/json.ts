import type { AnalysisResult } from '../../common/model';

/** The analysis as the CLI's --json prints it: stable key order, two-space indentation. */
export function jsonReport(result: AnalysisResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}
