// The fleet report and status as they cross a process boundary (CLI JSON, the workbench's Fleet
// view): plain data, and the few words every view of them uses alike.

import { SEVERITIES, type FindingKind, type Severity } from './findings';

export const FLEET_REPORT_SCHEMA = 'irpscope-fleet-report/1';

/** A fleet's name: a folder under --results and part of Redis keys. */
export const FLEET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type SeverityCounts = Record<Severity, number>;

export interface SystemId {
  /** "Windows 10 2004", null when the kernel's build was not found. */
  name: string | null;
  number: number | null;
  arch: 'x86' | 'x64' | null;
}

/** Something a comparison found that other hosts may share: what the clusters are made of. */
export interface Evidence {
  /** Equal keys are the same evidence on two hosts (built from boot-independent facts only). */
  key: string;
  kind: 'added-driver' | 'hooked-entry' | 'patched-service' | 'other';
  /** For people: "added driver acpiex2.sys (0x9000 bytes, timestamp 0x57a3db2f, checksum 0xf3c58)". */
  label: string;
  severity: Severity;
}

/** One difference from the baseline, as the host's summary keeps it. */
export interface HostDifference {
  kind: string;
  change: string;
  key: string;
  severity: Severity;
  summary: string;
  /** The findings of the host the baseline lacks, which this difference explains. */
  findings: Array<{ kind: FindingKind; severity: Severity; subject: string }>;
}

export interface HostFindings {
  total: number;
  bySeverity: SeverityCounts;
  byKind: Record<string, number>;
  top: { severity: Severity; kind: FindingKind; subject: string; explanation: string } | null;
}

export type HostState = 'queued' | 'active' | 'done' | 'failed';

export interface ClusterRow {
  /** "C1", "C2"… in the report's order. */
  id: string;
  /** Host labels, sorted. */
  hosts: string[];
  /** What every one of them shares (and no other set of hosts shares exactly). */
  evidence: Evidence[];
  severity: Severity;
}

export interface HostRow {
  label: string;
  image: string;
  state: HostState;
  system: SystemId | null;
  /** The baseline's label, null when the host was analysed alone (see `alone`). */
  baseline: string | null;
  alone: string | null;
  unrelated: string | null;
  differences: number;
  variations: number;
  bySeverity: SeverityCounts;
  /** The differences (most severe first; at most 200 — `differences` counts them all). */
  differenceList: HostDifference[];
  findings: HostFindings;
  clusters: string[];
  error: string | null;
  /** Its results, relative to the fleet's results folder. */
  files: { analysis: string | null; diff: string | null } | null;
}

export interface BaselineRow {
  label: string;
  image: string;
  state: HostState;
  system: SystemId | null;
  error: string | null;
  /** Hosts compared with it. */
  hosts: number;
}

export interface FleetReport {
  schema: typeof FLEET_REPORT_SCHEMA;
  fleet: string;
  counts: {
    hosts: number;
    queued: number;
    active: number;
    done: number;
    failed: number;
    /** Done, and no difference from the baseline. */
    matching: number;
    /** Done, with differences (or a baseline of another system). */
    differing: number;
    /** Done without a baseline to compare with. */
    alone: number;
  };
  baselines: BaselineRow[];
  hosts: HostRow[];
  clusters: ClusterRow[];
  /** What looks like a mistake in how the fleet was given: a baseline of a build no host has. */
  warnings: string[];
  /** 0: every host matches its baseline; 1: differences somewhere (or not all done yet); 2: errors. */
  exitCode: 0 | 1 | 2;
}

export interface WorkerThroughput {
  worker: string;
  jobs: number;
  imagesPerMinute: number;
  lastFinishedAt: string;
}

export interface FleetStatus {
  fleet: string;
  /** The Redis URL with its password masked. */
  redis: string;
  counts: { total: number; queued: number; active: number; done: number; failed: number };
  /** Labels of the jobs being analysed now. */
  active: string[];
  throughput: WorkerThroughput[];
  /** Worker processes connected to the queue (of any fleet). */
  connectedWorkers: number;
  /** Seconds until every job is done at the recent rate; null when nothing is left or nothing to go on. */
  etaSeconds: number | null;
}

/** "Windows 10 2004 (19041, x64)". */
export function systemText(system: SystemId | null): string {
  if (!system || system.number === null) return 'an unidentified build';
  return `${system.name ?? 'Windows'} (${system.number}, ${system.arch ?? 'architecture unknown'})`;
}

/** "2 critical, 1 high" (most severe first; empty when all are zero). */
export function severityPhrase(counts: SeverityCounts): string {
  return [...SEVERITIES]
    .reverse()
    .filter((s) => counts[s] > 0)
    .map((s) => `${counts[s]} ${s}`)
    .join(', ');
}

/** What became of a host in one word: matches, differs, unrelated, alone, or its job's state. */
export function hostStatus(host: HostRow): 'matches' | 'differs' | 'unrelated' | 'alone' | HostState {
  if (host.state !== 'done') return host.state;
  if (host.baseline === null) return 'alone';
  if (host.unrelated !== null) return 'unrelated';
  return host.differences > 0 ? 'differs' : 'matches';
}
