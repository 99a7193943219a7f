// The fleet's one job, run by the BullMQ worker and by the in-process queue of `fleet run` alike:
// a baseline is analysed and published for the hosts of its build; a host is analysed, paired
// with the baseline of its Windows build and architecture, compared with it, and its full
// analysis, comparison and summary are written atomically to the results folder.

import { existsSync } from 'node:fs';
import type { DiffResult } from '../common/api';
import { SEVERITIES, severityRank, type Severity } from '../common/findings';
import type { AnalysisResult } from '../common/model';
import { analyzeImage } from '../core/node/analyze';
import { diffResults } from '../core/compare';
import { oneLine } from './errors';
import { comparisonEvidence } from './evidence';
import { fileIdentity, identityMismatch } from './identity';
import type { ResultsFolder } from './results';
import {
  BASELINE_SUMMARY_SCHEMA,
  HOST_SUMMARY_SCHEMA,
  MAX_DIFFERENCES,
  type BaselineSummary,
  type FleetJobData,
  type HostDifference,
  type HostSummary,
  type SeverityCounts,
  type SystemId,
} from './types';
import { systemText } from '../common/fleet';

/** The fleet's baselines, as the queue that runs the job knows them. */
export interface BaselineSource {
  /**
   * The summaries of the host's baselines (`host.baselines`) once none of them is being analysed
   * any more (waits for those in progress); 'later' when one has not even started: the job then
   * gives its slot back and runs again later, so a host never holds the slot a baseline waits for.
   */
  settled(host: FleetJobData): Promise<BaselineSummary[] | 'later'>;
  /** The analysis of a finished baseline. */
  analysis(summary: BaselineSummary): Promise<AnalysisResult>;
  /** Makes a finished baseline's analysis available to the hosts (before its job completes). */
  publish(summary: BaselineSummary, analysis: AnalysisResult): Promise<void>;
}

export interface JobContext {
  results: ResultsFolder;
  baselines: BaselineSource;
  /** Where this worker sees a submitted path (--path-map). */
  mapPath: (path: string) => string;
  /** Names this worker in summaries and status ("host:pid"). */
  worker: string;
  /** Worker threads each analysis scans with. */
  scanWorkers: number;
  signal?: AbortSignal;
}

export type JobOutcome =
  | { kind: 'done'; summary: HostSummary | BaselineSummary }
  /** A baseline of the fleet has not started: run the job again later. */
  | { kind: 'later' };

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

function zeroCounts(): SeverityCounts {
  return { info: 0, low: 0, medium: 0, high: 0, critical: 0 };
}

function systemOf(result: AnalysisResult): SystemId {
  const build = result.image.build?.value ?? null;
  return { name: build?.name ?? null, number: build?.number ?? null, arch: result.image.arch };
}

/** The image at the path this worker sees, checked to be the one submitted. */
function openablePath(data: FleetJobData, context: JobContext): string {
  const path = context.mapPath(data.image);
  const where = path === data.image ? path : `${path} (submitted as ${data.image})`;
  if (!existsSync(path)) throw new Error(`image not found: ${where}`);
  const mismatch = identityMismatch(data.identity, fileIdentity(path));
  if (mismatch) throw new Error(`${mismatch}: ${where}`);
  return path;
}

function analyse(path: string, data: FleetJobData, context: JobContext): Promise<AnalysisResult> {
  return analyzeImage(path, {
    workers: context.scanWorkers,
    ...(data.symbols ? { symbols: context.mapPath(data.symbols) } : {}),
    ...(context.signal ? { signal: context.signal } : {}),
  });
}

function run(context: JobContext, startedAt: Date, engine: string): HostSummary['run'] {
  return {
    worker: context.worker,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    engine,
  };
}

async function runBaseline(
  data: FleetJobData,
  jobId: string,
  context: JobContext,
  engine: string,
): Promise<JobOutcome> {
  const startedAt = new Date();
  const analysis = await analyse(openablePath(data, context), data, context);
  const file = context.results.writeJobFile(data.fleet, 'baselines', jobId, 'analysis.json', json(analysis));
  const summary: BaselineSummary = {
    schema: BASELINE_SUMMARY_SCHEMA,
    jobId,
    fleet: data.fleet,
    image: data.image,
    label: data.label,
    submittedAt: data.submittedAt,
    state: 'done',
    error: null,
    system: systemOf(analysis),
    findings: analysis.findings.length,
    files: { analysis: file },
    run: run(context, startedAt, engine),
  };
  await context.baselines.publish(summary, analysis);
  context.results.writeJobFile(data.fleet, 'baselines', jobId, 'summary.json', json(summary));
  return { kind: 'done', summary };
}

/** The baseline of the host's build and architecture, or why there is none. */
function pairBaseline(
  host: SystemId,
  baselines: readonly BaselineSummary[],
): { baseline: BaselineSummary } | { alone: string } {
  if (baselines.length === 0) return { alone: 'no baseline was given' };
  if (host.number === null) return { alone: "the host's Windows build was not identified" };
  const ready = baselines.filter((b) => b.state === 'done' && b.system);
  const matching = ready.filter((b) => b.system!.number === host.number && b.system!.arch === host.arch);
  if (matching.length > 1)
    throw new Error(
      `${matching.length} baselines of ${systemText(host)}: ${matching.map((b) => b.label).join(', ')} (give one per build and architecture)`,
    );
  if (matching.length === 1) return { baseline: matching[0]! };
  const known = ready.map((b) => `${b.label}: ${systemText(b.system)}`);
  const failed = baselines.filter((b) => b.state === 'failed').map((b) => `${b.label} failed: ${b.error}`);
  return {
    alone: `no baseline of ${systemText(host)} in this fleet (${[...known, ...failed].join('; ')})`,
  };
}

function findingsSummary(analysis: AnalysisResult): HostSummary['findings'] {
  const bySeverity = zeroCounts();
  const byKind: Record<string, number> = {};
  for (const finding of analysis.findings) {
    bySeverity[finding.severity]++;
    byKind[finding.kind] = (byKind[finding.kind] ?? 0) + 1;
  }
  const top = analysis.findings.reduce<(typeof analysis.findings)[number] | null>(
    (best, f) => (best === null || severityRank(f.severity) > severityRank(best.severity) ? f : best),
    null,
  );
  return {
    total: analysis.findings.length,
    bySeverity,
    byKind,
    top: top && {
      severity: top.severity,
      kind: top.kind,
      subject: top.subject,
      explanation: top.explanation,
    },
  };
}

function differencesOf(diff: DiffResult, analysis: AnalysisResult): HostDifference[] {
  const byId = new Map(analysis.findings.map((f) => [f.id, f]));
  return diff.entries
    .filter((e) => e.variation === null)
    .slice(0, MAX_DIFFERENCES)
    .map((entry) => ({
      kind: entry.kind,
      change: entry.change,
      key: entry.key,
      severity: entry.severity,
      summary: entry.summary,
      findings: entry.findings.added.flatMap((id) => {
        const finding = byId.get(id);
        return finding ? [{ kind: finding.kind, severity: finding.severity, subject: finding.subject }] : [];
      }),
    }));
}

function comparisonOf(diff: DiffResult): HostSummary['comparison'] {
  const bySeverity = zeroCounts();
  for (const severity of SEVERITIES) bySeverity[severity] = diff.counts.bySeverity[severity as Severity] ?? 0;
  return {
    differences: diff.counts.differences,
    variations: diff.counts.variations,
    bySeverity,
    warnings: diff.compatibility.warnings,
  };
}

async function runHost(
  data: FleetJobData,
  jobId: string,
  context: JobContext,
  engine: string,
): Promise<JobOutcome> {
  const startedAt = new Date();
  const analysis = await analyse(openablePath(data, context), data, context);
  const baselines = await context.baselines.settled(data);
  if (baselines === 'later') return { kind: 'later' };
  const system = systemOf(analysis);
  const paired = pairBaseline(system, baselines);
  let diff: DiffResult | null = null;
  if ('baseline' in paired) diff = diffResults(await context.baselines.analysis(paired.baseline), analysis);
  const analysisFile = context.results.writeJobFile(
    data.fleet,
    'hosts',
    jobId,
    'analysis.json',
    json(analysis),
  );
  const diffFile = diff && context.results.writeJobFile(data.fleet, 'hosts', jobId, 'diff.json', json(diff));
  const summary: HostSummary = {
    schema: HOST_SUMMARY_SCHEMA,
    jobId,
    fleet: data.fleet,
    image: data.image,
    label: data.label,
    submittedAt: data.submittedAt,
    state: 'done',
    error: null,
    system,
    baseline:
      'baseline' in paired
        ? { jobId: paired.baseline.jobId, image: paired.baseline.image, label: paired.baseline.label }
        : null,
    alone: 'alone' in paired ? paired.alone : null,
    unrelated: diff?.compatibility.unrelated ?? null,
    comparison: diff && comparisonOf(diff),
    differences: diff ? differencesOf(diff, analysis) : [],
    findings: findingsSummary(analysis),
    evidence: diff && diff.compatibility.unrelated === null ? comparisonEvidence(diff, analysis) : [],
    files: { analysis: analysisFile, diff: diffFile },
    run: run(context, startedAt, engine),
  };
  context.results.writeJobFile(data.fleet, 'hosts', jobId, 'summary.json', json(summary));
  return { kind: 'done', summary };
}

/** Runs one job. Throws with a one-line message when it fails (the queue retries or records it). */
export function runFleetJob(
  data: FleetJobData,
  jobId: string,
  context: JobContext,
  engine: string,
): Promise<JobOutcome> {
  return data.kind === 'baseline'
    ? runBaseline(data, jobId, context, engine)
    : runHost(data, jobId, context, engine);
}

/**
 * The summary of a job that failed for good (its last attempt), written where a successful one
 * would be, so the results folder alone says what became of every job.
 */
export function recordFailure(
  data: FleetJobData,
  jobId: string,
  error: unknown,
  context: Pick<JobContext, 'results' | 'worker'>,
  engine: string,
  startedAt: Date,
): HostSummary | BaselineSummary {
  const run = {
    worker: context.worker,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    engine,
  };
  const common = {
    jobId,
    fleet: data.fleet,
    image: data.image,
    label: data.label,
    submittedAt: data.submittedAt,
    state: 'failed' as const,
    error: oneLine(error),
    system: null,
    run,
  };
  const summary: HostSummary | BaselineSummary =
    data.kind === 'baseline'
      ? { schema: BASELINE_SUMMARY_SCHEMA, ...common, findings: 0, files: { analysis: null } }
      : {
          schema: HOST_SUMMARY_SCHEMA,
          ...common,
          baseline: null,
          alone: null,
          unrelated: null,
          comparison: null,
          differences: [],
          findings: { total: 0, bySeverity: zeroCounts(), byKind: {}, top: null },
          evidence: [],
          files: { analysis: null, diff: null },
        };
  try {
    context.results.writeJobFile(
      data.fleet,
      data.kind === 'baseline' ? 'baselines' : 'hosts',
      jobId,
      'summary.json',
      json(summary),
    );
  } catch {
    // The failure is recorded in the queue all the same; a folder that cannot take it was said at start.
  }
  return summary;
}
