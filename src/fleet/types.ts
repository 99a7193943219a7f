// The fleet's data: what a job carries (paths and options, never image bytes) and what it leaves
// behind (a summary of a few KB, kept in Redis and beside the full results). Summaries come back
// from Redis and from disk, so from wherever those were written: each is checked against its
// schema before it is used. The report made from them is in src/common/fleet.ts.

import { z } from 'zod';
import { FINDING_KINDS, SEVERITIES } from '../common/findings';
import type { Evidence, HostDifference, HostFindings, SystemId } from '../common/fleet';

export * from '../common/fleet';
import { FLEET_NAME } from '../common/fleet';

export const HOST_SUMMARY_SCHEMA = 'irpscope-fleet-host/1';
export const BASELINE_SUMMARY_SCHEMA = 'irpscope-fleet-baseline/1';

/** At most this many differences are kept in a summary (the diff.json has them all). */
export const MAX_DIFFERENCES = 200;

/** What identifies an image file cheaply: enough to notice it was replaced or edited. */
export const identitySchema = z.object({
  size: z.number().int().nonnegative(),
  mtimeMs: z.number(),
  /** SHA-256 of the size, the first MiB and the last MiB (src/core/node/identity.ts). */
  quickHash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type FileIdentity = z.infer<typeof identitySchema>;

export const jobDataSchema = z.object({
  kind: z.enum(['host', 'baseline']),
  fleet: z.string().regex(FLEET_NAME),
  /** The image as the submitter sees it (a worker may see it elsewhere: --path-map). */
  image: z.string().min(1),
  /** How the report names it: its path under the folder submitted, else its file name. */
  label: z.string().min(1),
  identity: identitySchema,
  /** The submitter's engine fingerprint (part of the job's id: another engine analyses again). */
  engine: z.string(),
  submittedAt: z.string(),
  symbols: z.string().nullable(),
  /**
   * A host's baselines: the job ids of the fleet's baselines it is to be paired among (empty for
   * a baseline). Part of the job's id: another set of baselines is another comparison.
   */
  baselines: z.array(z.string().regex(/^b-[0-9a-f]{32}$/)),
});
export type FleetJobData = z.infer<typeof jobDataSchema>;

const severity = z.enum(SEVERITIES);
const count = z.number().int().nonnegative();
const severityCounts = z.object({ info: count, low: count, medium: count, high: count, critical: count });

const evidenceSchema = z.object({
  key: z.string(),
  kind: z.enum(['added-driver', 'hooked-entry', 'patched-service', 'other']),
  label: z.string(),
  severity,
}) satisfies z.ZodType<Evidence>;

const differenceSchema = z.object({
  kind: z.string(),
  change: z.string(),
  key: z.string(),
  severity,
  summary: z.string(),
  findings: z.array(z.object({ kind: z.enum(FINDING_KINDS), severity, subject: z.string() })),
}) satisfies z.ZodType<HostDifference>;

const findingsSchema = z.object({
  total: count,
  bySeverity: severityCounts,
  byKind: z.record(z.string(), count),
  top: z
    .object({ severity, kind: z.enum(FINDING_KINDS), subject: z.string(), explanation: z.string() })
    .nullable(),
}) satisfies z.ZodType<HostFindings>;

const systemSchema = z.object({
  name: z.string().nullable(),
  number: z.number().int().nullable(),
  arch: z.enum(['x86', 'x64']).nullable(),
}) satisfies z.ZodType<SystemId>;

/** Where and when a job ran: for status and throughput, never part of the report. */
const runSchema = z.object({
  worker: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  engine: z.string(),
});

/** A result file relative to the fleet's folder, as a job writes it (nothing that climbs out). */
const resultFile = z
  .string()
  .regex(/^(hosts|baselines)\/[hb]-[0-9a-f]{32}\/(analysis|diff)\.json$/)
  .nullable();

const jobFields = {
  jobId: z.string(),
  fleet: z.string().regex(FLEET_NAME),
  image: z.string(),
  label: z.string(),
  submittedAt: z.string(),
  state: z.enum(['done', 'failed']),
  /** The one-line reason a failed job gives. */
  error: z.string().nullable(),
  system: systemSchema.nullable(),
  run: runSchema,
};

export const baselineSummarySchema = z.object({
  schema: z.literal(BASELINE_SUMMARY_SCHEMA),
  ...jobFields,
  findings: count,
  /** Relative to the fleet's results folder. */
  files: z.object({ analysis: resultFile }),
});
export type BaselineSummary = z.infer<typeof baselineSummarySchema>;

export const hostSummarySchema = z.object({
  schema: z.literal(HOST_SUMMARY_SCHEMA),
  ...jobFields,
  baseline: z.object({ jobId: z.string(), image: z.string(), label: z.string() }).nullable(),
  /** Why the host was analysed alone (no baseline of its build, the baseline failed). */
  alone: z.string().nullable(),
  /** Set when the baseline is not the same system (the comparison then has no entries). */
  unrelated: z.string().nullable(),
  comparison: z
    .object({
      differences: count,
      variations: count,
      bySeverity: severityCounts,
      warnings: z.array(z.string()),
    })
    .nullable(),
  /** The differences, most severe first (at most MAX_DIFFERENCES; `comparison.differences` counts all). */
  differences: z.array(differenceSchema),
  findings: findingsSchema,
  evidence: z.array(evidenceSchema),
  /** Relative to the fleet's results folder. */
  files: z.object({ analysis: resultFile, diff: resultFile }),
});
export type HostSummary = z.infer<typeof hostSummarySchema>;
