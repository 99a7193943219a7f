// `irpscope report`: what goes into the report of an image (and its baseline): the analyses, the
// comparison, the files' identities and hashes, and the times. Writing it out is main.ts's.

import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { ReportFile, ReportFormat } from '../common/api';
import type { AnalysisResult } from '../common/model';
import { diffResults } from '../core/compare';
import { makeReportFile, type Sha256Facts } from '../core/report';

export interface ReportRequest {
  image: string;
  baseline?: string;
  format: ReportFormat;
  analyst?: string;
  note?: string;
  /** Compute the files' SHA-256 (--no-hash: false). */
  hash: boolean;
  /** "irpscope report (IRPscope 1.2.3)". */
  generatedBy: string;
}

/** What the report is made with: the analyses (already running), a hash function and a clock. */
export interface ReportWork {
  analyses: { image: Promise<AnalysisResult>; baseline?: Promise<AnalysisResult> };
  sha256(path: string): Promise<string>;
  now(): Date;
}

export async function buildReport(request: ReportRequest, work: ReportWork): Promise<ReportFile> {
  const { image } = request;
  // The SHA-256 streams the file alongside the analysis (both read it; the page cache serves the second).
  const hashed = request.hash
    ? work.sha256(image).then(
        (sha256) => ({ sha256, at: work.now().toISOString() }),
        () => null,
      )
    : Promise.resolve(null);
  let result: AnalysisResult;
  let diff;
  if (work.analyses.baseline) {
    const [before, after] = await Promise.all([work.analyses.baseline, work.analyses.image]);
    result = after;
    diff = diffResults(before, after);
  } else {
    result = await work.analyses.image;
  }
  return makeReportFile(result, request.format, {
    label: basename(image),
    ...(diff ? { diff } : {}),
    generatedBy: request.generatedBy,
    generatedAt: work.now().toISOString(),
    case: {
      imagePath: resolve(image),
      imageSize: statSync(image).size,
      ...hashFacts(await hashed),
      analyzedAt: work.now().toISOString(),
      analyst: request.analyst ?? '',
      note: request.note ?? '',
      annotations: {},
    },
  });
}

/** A hash computed for this report: verified on the file as it is now. */
function hashFacts(hash: { sha256: string; at: string } | null): Sha256Facts {
  return hash
    ? { sha256: hash.sha256, sha256ComputedAt: hash.at, sha256State: 'verified-now', sha256VerifiedAt: null }
    : { sha256: null, sha256ComputedAt: null, sha256State: null, sha256VerifiedAt: null };
}
