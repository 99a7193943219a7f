// `irpscope report`: what goes into the report of an image (and its baseline): the analyses, the
// comparison, the files' identities and hashes, and the times. Writing it out is main.ts's.
// Each time is taken when its event happens (an analysis or a hash finishing), and the report's
// own time last, so that a report is never made before what it reports.

import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { ReportFile, ReportFormat } from '../common/api';
import type { AnalysisResult } from '../common/model';
import { diffResults } from '../core/compare';
import { makeReportFile } from '../core/node/report/report-file';
import { windowsBuild, type ReportBaseline, type Sha256Facts } from '../core/report';

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

interface Stamped<T> {
  value: T;
  /** When it finished (ISO). */
  at: string;
}

/** A file as the report identifies it: its size now, its analysis and, unless --no-hash, its hash. */
interface AnalysedFile {
  path: string;
  size: number;
  analysis: Stamped<AnalysisResult>;
  hash: Stamped<string> | null;
}

export async function buildReport(request: ReportRequest, work: ReportWork): Promise<ReportFile> {
  const stamp = <T>(promise: Promise<T>): Promise<Stamped<T>> =>
    promise.then((value) => ({ value, at: work.now().toISOString() }));
  // The SHA-256 streams the file alongside the analysis (both read it; the page cache serves the
  // second). A file that cannot be hashed is reported as not hashed; its analysis says why.
  const identify = async (path: string, analysis: Promise<AnalysisResult>): Promise<AnalysedFile> => {
    const hash = request.hash ? stamp(work.sha256(path)).catch(() => null) : Promise.resolve(null);
    const [analysed, hashed] = await Promise.all([stamp(analysis), hash]);
    return { path: resolve(path), size: statSync(path).size, analysis: analysed, hash: hashed };
  };
  const [image, baseline] = await Promise.all([
    identify(request.image, work.analyses.image),
    request.baseline && work.analyses.baseline
      ? identify(request.baseline, work.analyses.baseline)
      : Promise.resolve(null),
  ]);
  const result = image.analysis.value;
  const diff = baseline ? diffResults(baseline.analysis.value, result) : undefined;
  return makeReportFile(result, request.format, {
    label: basename(request.image),
    ...(diff ? { diff } : {}),
    generatedBy: request.generatedBy,
    case: {
      imagePath: image.path,
      imageSize: image.size,
      ...hashFacts(image.hash),
      analyzedAt: image.analysis.at,
      analyst: request.analyst ?? '',
      note: request.note ?? '',
      annotations: {},
      ...(baseline ? { baseline: baselineFacts(baseline) } : {}),
    },
    // Taken last: after both analyses and both hashes.
    generatedAt: work.now().toISOString(),
  });
}

function baselineFacts(file: AnalysedFile): ReportBaseline {
  return {
    path: file.path,
    size: file.size,
    ...hashFacts(file.hash),
    build: windowsBuild(file.analysis.value.image),
    analyzedAt: file.analysis.at,
  };
}

/** A hash computed for this report: verified on the file as it is now. */
function hashFacts(hash: Stamped<string> | null): Sha256Facts {
  return hash
    ? { sha256: hash.value, sha256ComputedAt: hash.at, sha256State: 'verified-now', sha256VerifiedAt: null }
    : { sha256: null, sha256ComputedAt: null, sha256State: null, sha256VerifiedAt: null };
}
