// What a comparison of an infected builder image with a clean boot of the same system must show,
// from the builder's ground truth alone: one difference per object the planted anomalies are
// about, at the gravest severity planted on it. A freed driver object is boot variation (which
// tools ran differs between boots), and the rootkit's unlinked module is shown in its driver's row.

import type { Truth } from '../../src/builder/index';

const SEVERITY_RANK = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type PlantedSeverity = (typeof SEVERITY_RANK)[number];

export function severityRank(severity: string): number {
  const rank = SEVERITY_RANK.indexOf(severity as PlantedSeverity);
  if (rank < 0) throw new Error(`unknown severity ${severity}`);
  return rank;
}

export interface PlantedDifference {
  severity: PlantedSeverity;
  /** The kinds of the findings planted on the object, sorted. */
  kinds: string[];
}

/**
 * The comparison's key of each planted callback in a module (kind|module+offset), in the order the
 * rootkit registered them, which is the order of its findings on that module.
 */
function plantedCallbackKeys(truth: Truth): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const callback of truth.registeredCallbacks.filter((c) => c.planted && c.owner !== null)) {
    const module = truth.modules.find((m) => m.name === callback.owner)!;
    const offset = `0x${(BigInt(callback.routine) - BigInt(module.base)).toString(16)}`;
    keys.set(module.name, [
      ...(keys.get(module.name) ?? []),
      `${callback.kind}|${module.name.toLowerCase()}+${offset}`,
    ]);
  }
  return keys;
}

/** Each expected difference by its key (the object's name as the builder wrote it). */
export function plantedDifferences(truth: Truth): Map<string, PlantedDifference> {
  const rows = new Map<string, PlantedDifference>();
  // A callback in the rootkit's module is its own difference: the callback added.
  const callbackKeys = plantedCallbackKeys(truth);
  for (const finding of truth.findings) {
    if (finding.kind === 'stale-driver') continue;
    const key =
      finding.kind === 'unlinked-module'
        ? truth.drivers.find((d) => d.module === finding.subject)?.name
        : finding.kind === 'callback-hidden-module'
          ? callbackKeys.get(finding.subject)?.shift()
          : finding.subject;
    if (key === undefined) throw new Error(`no driver runs or callback is in the module ${finding.subject}`);
    const row = rows.get(key) ?? { severity: finding.severity, kinds: [] };
    if (severityRank(finding.severity) > severityRank(row.severity)) row.severity = finding.severity;
    row.kinds = [...row.kinds, finding.kind].sort();
    rows.set(key, row);
  }
  return rows;
}
