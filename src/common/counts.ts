// The counts of an analysis, defined once for the CLI, the workbench, the reports and the
// comparison (docs/json.md, "Counts"):
// - drivers: live driver objects, i.e. loaded drivers. A driver object found in a freed pool
//   block (a driver that was loaded and unloaded) is not a driver of the running system; it is
//   counted apart as "unloaded".
// - devices, symbolic links, modules, processes, threads, IRPs in flight: every one recovered.
//   Modules "unlinked" and processes "hidden" are subsets.
// - services: the entries of the system-service table read from the image; "hooked or patched"
//   is the subset with a suspicious verdict.
// Each count is shown with its part's coverage: "partial" or "not available" with the reason.

import { isSuspiciousVerdict } from './findings';
import { COVERED_PARTS, type AnalysisResult, type Coverage, type CoveredPart } from './model';

export interface Counts {
  drivers: number;
  unloadedDrivers: number;
  devices: number;
  links: number;
  modules: number;
  unlinkedModules: number;
  services: number;
  suspiciousServices: number;
  processes: number;
  hiddenProcesses: number;
  threads: number;
  irps: number;
  findings: number;
}

export function countsOf(result: AnalysisResult): Counts {
  const unloadedDrivers = result.drivers.filter((d) => d.state === 'freed').length;
  return {
    drivers: result.drivers.length - unloadedDrivers,
    unloadedDrivers,
    devices: result.devices.length,
    links: result.links.length,
    modules: result.modules.length,
    unlinkedModules: result.modules.filter((m) => m.unlinked).length,
    services: result.serviceTable?.entries.length ?? 0,
    suspiciousServices:
      result.serviceTable?.entries.filter((e) => isSuspiciousVerdict(e.verdict)).length ?? 0,
    processes: result.processes.length,
    hiddenProcesses: result.processes.filter((p) => p.hidden).length,
    threads: result.threads.length,
    irps: result.irps.length,
    findings: result.findings.length,
  };
}

const PART_LABELS: Record<CoveredPart, string> = {
  drivers: 'drivers',
  devices: 'devices',
  modules: 'modules',
  links: 'symbolic links',
  services: 'system services',
  processes: 'processes',
  threads: 'threads',
  irps: 'IRPs in flight',
  findings: 'findings',
};

export function partLabel(part: CoveredPart): string {
  return PART_LABELS[part];
}

/** "partial: …" or "not available: …"; null when the part is complete. */
export function coverageNote(coverage: Coverage): string | null {
  if (coverage.state === 'complete') return null;
  const why = coverage.missing.join('; ');
  return coverage.state === 'partial' ? `partial: ${why}` : `not available: ${why}`;
}

/**
 * One count as it is shown: "113 drivers (+2 unloaded)", "113 drivers (partial; +2 unloaded)", or
 * "drivers: not available" — never a 0 for a part that could not be read.
 */
export function countPhrase(count: number, part: CoveredPart, coverage: Coverage, detail?: string): string {
  const label = partLabel(part);
  if (coverage.state === 'unavailable') return `${label}: not available`;
  const notes = [coverage.state === 'partial' ? 'partial' : null, detail ?? null].filter((n) => n !== null);
  return `${count} ${label}${notes.length ? ` (${notes.join('; ')})` : ''}`;
}

/**
 * Why parts are partial or not available, each reason once with the parts it concerns, in the
 * order of COVERED_PARTS.
 */
export function coverageReasons(
  result: AnalysisResult,
  parts: readonly CoveredPart[] = COVERED_PARTS,
): Array<{ state: 'partial' | 'unavailable'; parts: string[]; reason: string }> {
  const reasons: Array<{ state: 'partial' | 'unavailable'; parts: string[]; reason: string }> = [];
  for (const part of parts) {
    const coverage = result.coverage[part];
    if (coverage.state === 'complete') continue;
    for (const reason of coverage.missing) {
      const same = reasons.find((r) => r.reason === reason && r.state === coverage.state);
      if (same) same.parts.push(partLabel(part));
      else reasons.push({ state: coverage.state, parts: [partLabel(part)], reason });
    }
  }
  return reasons;
}

/**
 * What to say of the findings: the list's heading, or why an empty list is not "clean". "No
 * findings" is only said when every judgement could be made.
 */
export function findingsHeadline(result: AnalysisResult): string {
  const n = result.findings.length;
  const coverage = result.coverage.findings;
  if (coverage.state === 'unavailable') return `Findings: not available (${coverage.missing.join('; ')})`;
  if (n > 0)
    return `Findings (${n})${coverage.state === 'partial' ? `, and not every judgement could be made: ${coverage.missing.join('; ')}` : ''}:`;
  return coverage.state === 'partial'
    ? `No findings among what could be judged; not every judgement could be made: ${coverage.missing.join('; ')}`
    : 'No findings.';
}
