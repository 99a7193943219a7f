import type { DiffResult } from '../../common/api';
import type { AnalysisResult } from '../../common/model';
import type { ReportCase } from './case';

export interface JsonReportOptions {
  case?: ReportCase;
  diff?: DiffResult;
  generatedBy?: string;
  generatedAt?: string;
}

/**
 * The analysis as the CLI's --json prints it (stable key order, two-space indentation), and what
 * a report adds to it: `case` (the image's and the baseline's identity, the analyst, their notes
 * and marks), `diff` (the comparison with the baseline) and `report` (when and by what it was made).
 */
export function jsonReport(result: AnalysisResult, options: JsonReportOptions = {}): string {
  const made =
    options.generatedAt || options.generatedBy
      ? { report: { madeAt: options.generatedAt ?? null, madeBy: options.generatedBy ?? null } }
      : {};
  return `${JSON.stringify(
    {
      ...result,
      ...(options.case ? { case: options.case } : {}),
      ...(options.diff ? { diff: options.diff } : {}),
      ...made,
    },
    null,
    2,
  )}\n`;
}
