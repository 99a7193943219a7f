// The fleet report, made from the jobs' summaries alone (whether they come from Redis or from a
// results folder): one row per host — its build, the baseline it was compared with, differences by
// severity, findings, the error if its job failed — the baselines, and the clusters of hosts that
// share evidence. It holds nothing that depends on where or when the jobs ran, so the same fleet
// gives the same report from BullMQ workers and from `fleet run`.

import { systemText } from '../common/fleet';
import { clusterHosts } from './clusters';
import {
  FLEET_REPORT_SCHEMA,
  type BaselineRow,
  type BaselineSummary,
  type FleetReport,
  type HostRow,
  type HostState,
  type HostSummary,
  type SeverityCounts,
} from './types';

/** A job as the queue knows it: its state, and its summary once it has one. */
export interface JobView<S> {
  image: string;
  label: string;
  submittedAt: string;
  state: HostState;
  summary: S | null;
  /** The failure's one line, when the queue has it but no summary. */
  error: string | null;
}

const zero = (): SeverityCounts => ({ info: 0, low: 0, medium: 0, high: 0, critical: 0 });
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** One job per image: a later submission of the same path (an edited image) replaces the earlier. */
function latestPerImage<S>(jobs: ReadonlyArray<JobView<S>>): Array<JobView<S>> {
  const byImage = new Map<string, JobView<S>>();
  for (const job of jobs) {
    const known = byImage.get(job.image);
    if (!known || job.submittedAt > known.submittedAt) byImage.set(job.image, job);
  }
  return [...byImage.values()].sort((a, b) => compareText(a.label, b.label) || compareText(a.image, b.image));
}

function hostRow(job: JobView<HostSummary>, clusters: ReadonlyMap<string, string[]>): HostRow {
  const s = job.summary;
  const state: HostState = s ? s.state : job.state;
  return {
    label: job.label,
    image: job.image,
    state,
    system: s?.system ?? null,
    baseline: s?.baseline?.label ?? null,
    alone: s?.alone ?? null,
    unrelated: s?.unrelated ?? null,
    differences: s?.comparison?.differences ?? 0,
    variations: s?.comparison?.variations ?? 0,
    bySeverity: s?.comparison?.bySeverity ?? zero(),
    differenceList: s?.differences ?? [],
    findings: s?.findings ?? { total: 0, bySeverity: zero(), byKind: {}, top: null },
    clusters: clusters.get(job.label) ?? [],
    error: s?.error ?? job.error,
    files: s?.state === 'done' ? s.files : null,
  };
}

function baselineRow(job: JobView<BaselineSummary>, hosts: readonly HostRow[]): BaselineRow {
  const s = job.summary;
  return {
    label: job.label,
    image: job.image,
    state: s ? s.state : job.state,
    system: s?.system ?? null,
    error: s?.error ?? job.error,
    hosts: hosts.filter((h) => h.baseline === job.label).length,
  };
}

/** A baseline no host was compared with, while hosts were analysed alone: likely the wrong golden image. */
function baselineWarnings(baselines: readonly BaselineRow[], hosts: readonly HostRow[]): string[] {
  const alone = hosts.filter((h) => h.state === 'done' && h.baseline === null && h.system);
  if (alone.length === 0) return [];
  const builds = [...new Set(alone.map((h) => systemText(h.system)))].sort();
  return baselines
    .filter((b) => b.state === 'done' && b.hosts === 0)
    .map(
      (b) =>
        `no host is of the build of baseline ${b.label} (${systemText(b.system)}); ${alone.length} host${alone.length === 1 ? ' was' : 's were'} analysed alone: ${builds.join(', ')}`,
    );
}

function exitCodeOf(counts: FleetReport['counts'], baselines: readonly BaselineRow[]): 0 | 1 | 2 {
  if (counts.failed > 0 || baselines.some((b) => b.state === 'failed')) return 2;
  return counts.differing + counts.alone + counts.queued + counts.active > 0 ? 1 : 0;
}

export function buildFleetReport(
  fleet: string,
  baselineJobs: ReadonlyArray<JobView<BaselineSummary>>,
  hostJobs: ReadonlyArray<JobView<HostSummary>>,
): FleetReport {
  const jobs = latestPerImage(hostJobs);
  const done = jobs.filter((j) => j.summary?.state === 'done');
  const clusters = clusterHosts(done.map((j) => ({ label: j.label, evidence: j.summary!.evidence })));
  const membership = new Map<string, string[]>();
  for (const cluster of clusters)
    for (const host of cluster.hosts) membership.set(host, [...(membership.get(host) ?? []), cluster.id]);
  const hosts = jobs.map((job) => hostRow(job, membership));
  const baselines = latestPerImage(baselineJobs).map((job) => baselineRow(job, hosts));
  const finished = hosts.filter((h) => h.state === 'done');
  const counts: FleetReport['counts'] = {
    hosts: hosts.length,
    queued: hosts.filter((h) => h.state === 'queued').length,
    active: hosts.filter((h) => h.state === 'active').length,
    done: finished.length,
    failed: hosts.filter((h) => h.state === 'failed').length,
    matching: finished.filter((h) => h.baseline !== null && h.differences === 0 && h.unrelated === null)
      .length,
    differing: finished.filter((h) => h.baseline !== null && (h.differences > 0 || h.unrelated !== null))
      .length,
    alone: finished.filter((h) => h.baseline === null).length,
  };
  return {
    schema: FLEET_REPORT_SCHEMA,
    fleet,
    counts,
    baselines,
    hosts,
    clusters,
    warnings: baselineWarnings(baselines, hosts),
    exitCode: exitCodeOf(counts, baselines),
  };
}
