// What a comparison of an infected builder image with a clean boot of the same system must show,
// from the builder's ground truth alone: one difference per object the planted anomalies are
// about, at the gravest severity planted on it. A freed driver object is boot variation (which
// tools ran differs between boots), and the rootkit's unlinked module is shown in its driver's row.

import type { Truth } from '../../src/builder/index';
import { RawImage, VirtualReader } from './raw-reader';

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

/** Findings about a callback entry: the comparison shows them on that callback's row. */
export const isCallbackFinding = (kind: string): boolean =>
  kind.startsWith('callback-') || kind === 'orphan-thread' || kind === 'idt-hook' || kind === 'gdt-call-gate';

/** The object rows: each planted anomaly but those about a callback entry (plantedCallbackRows). */
export function plantedObjectDifferences(truth: Truth): Map<string, PlantedDifference> {
  return plantedDifferences({ ...truth, findings: truth.findings.filter((f) => !isCallbackFinding(f.kind)) });
}

export interface PlantedCallbackRow {
  /** The comparison's identity: kind|module+offset, or for code in no module kind|code:<its first bytes…>. */
  key: string;
  change: 'added' | 'removed';
  /** The gravest finding on the row; null where no finding of its own is (another processor's gate). */
  severity: PlantedSeverity | null;
  kinds: string[];
}

/** Whether a comparison row's key is this row's: the whole key, or the first bytes of code in no module. */
export function callbackRowMatches(row: PlantedCallbackRow, key: string): boolean {
  return row.key.includes('|code:') ? key.startsWith(row.key) : key === row.key;
}

/**
 * The comparison rows of the rootkit's callbacks against a clean boot of the same system, from the
 * truths alone: each planted registration, the orphan System thread, the rootkit's timer and each
 * processor's hooked gate is added, the gate it replaced removed; the planted finding about it on its row (one for
 * all the hooked gates). `firstBytes` reads the infected image at a virtual address (hex pairs).
 */
export function plantedCallbackRows(
  truth: Truth,
  baseline: Truth,
  firstBytes: (va: string) => string,
): PlantedCallbackRow[] {
  const offsetIn = (t: Truth, owner: string, va: string) => {
    const module = t.modules.find((m) => m.name.toLowerCase() === owner.toLowerCase())!;
    return `${owner.toLowerCase()}+0x${(BigInt(va) - BigInt(module.base)).toString(16)}`;
  };
  const where = (kind: string, owner: string | null, va: string) =>
    owner === null ? `${kind}|code:${firstBytes(va)}` : `${kind}|${offsetIn(truth, owner, va)}`;
  const findings = (kind: string, subject: string) =>
    truth.findings.filter((f) => f.kind === kind && f.subject.toLowerCase() === subject.toLowerCase());
  const row = (key: string, about: Truth['findings'], change: 'added' | 'removed' = 'added') => ({
    key,
    change,
    severity: about.reduce<PlantedSeverity | null>(
      (worst, f) =>
        worst === null || severityRank(f.severity) > severityRank(worst)
          ? (f.severity as PlantedSeverity)
          : worst,
      null,
    ),
    kinds: about.map((f) => f.kind).sort(),
  });
  const registered = truth.registeredCallbacks
    .filter((c) => c.planted)
    .map((c) =>
      row(
        where(c.kind, c.owner, c.routine),
        c.owner === null
          ? findings('callback-no-module', c.routine)
          : findings('callback-hidden-module', c.owner).slice(0, 1),
      ),
    );
  const threads = truth.threads
    .filter((t) => t.pid === 4 && t.planted)
    .map((t) => row(where('system-thread', null, t.startAddress), findings('orphan-thread', t.startAddress)));
  const timers = truth.timers
    .filter((t) => t.planted)
    .map((t) =>
      row(
        where('timer', t.owner, t.routine),
        t.owner === null
          ? findings('callback-no-module', t.routine)
          : findings('callback-hidden-module', t.owner).slice(0, 1),
      ),
    );
  // Gates are compared as a set of routines over all processors: a gate hooked on every processor
  // is one added row, carrying the one idt-hook finding, and the kernel's gate it replaced
  // everywhere one removed row.
  const gateKey = (t: Truth, gate: Truth['idtEntries'][number]) =>
    `idt|${offsetIn(t, gate.owner!, gate.routine)}`;
  const imageGates = new Set(truth.idtEntries.filter((e) => e.owner !== null).map((e) => gateKey(truth, e)));
  const baselineGates = new Set(
    baseline.idtEntries.filter((e) => e.owner !== null).map((e) => gateKey(baseline, e)),
  );
  const hooked = [...new Set(truth.idtEntries.filter((e) => e.planted).map((e) => gateKey(truth, e)))];
  const replaced = [
    ...new Set(
      truth.idtEntries
        .filter((e) => e.planted)
        .map((gate) =>
          baseline.idtEntries.find((e) => e.vector === gate.vector && e.processor === gate.processor)!,
        )
        .map((e) => gateKey(baseline, e)),
    ),
  ];
  const gates = [
    ...hooked
      .filter((key) => !baselineGates.has(key))
      .map((key, i) => row(key, i === 0 ? truth.findings.filter((f) => f.kind === 'idt-hook') : [])),
    ...replaced.filter((key) => !imageGates.has(key)).map((key) => row(key, [], 'removed')),
  ];
  return [...registered, ...threads, ...timers, ...gates];
}

/** One row the comparison must show: an anomalous object, or one of the rootkit's callbacks. */
export interface ExpectedRow {
  key: string;
  /** Null where the row carries no finding of its own (a hooked gate's other processors, the gate it replaced). */
  severity: PlantedSeverity | null;
  kinds: string[];
  /** For a callback: added or removed; for an object, whether the clean boot has it decides. */
  change: 'added' | 'removed' | null;
  /** Whether a row showing `key` (as the product writes it, through `display`) is this one. */
  matches(key: string, display?: (key: string) => string): boolean;
}

/** Every row of a comparison of `truth`'s infected image with the clean `baseline`, from the truths. */
export function expectedRows(
  truth: Truth,
  baseline: Truth,
  firstBytes: (va: string) => string,
): ExpectedRow[] {
  return [
    ...[...plantedObjectDifferences(truth)].map(([key, row]) => ({
      key,
      severity: row.severity,
      kinds: row.kinds,
      change: null,
      matches: (shown: string, display = (k: string) => k) => shown === display(key),
    })),
    ...plantedCallbackRows(truth, baseline, firstBytes).map((row) => ({
      ...row,
      matches: (shown: string) => callbackRowMatches(row, shown),
    })),
  ];
}

/**
 * Pairs each shown row with an expected one of its key (and severity, where the row has a finding
 * of its own), each expected row used once: what is left over on either side is wrong.
 */
export function pairRows<T extends { key: string; severity: string }>(
  shown: readonly T[],
  expected: readonly ExpectedRow[],
  display?: (key: string) => string,
): { pairs: Array<[T, ExpectedRow]>; extra: T[]; missing: ExpectedRow[] } {
  const pool = [...expected];
  const pairs: Array<[T, ExpectedRow]> = [];
  const extra: T[] = [];
  for (const row of shown) {
    const candidates = pool.filter((e) => e.matches(row.key, display));
    const match =
      candidates.find((e) => e.severity === row.severity) ?? candidates.find((e) => e.severity === null);
    if (!match) extra.push(row);
    else {
      pool.splice(pool.indexOf(match), 1);
      pairs.push([row, match]);
    }
  }
  return { pairs, extra, missing: pool };
}

/** The first bytes at a kernel virtual address of a raw builder image, as a hex string. */
export function firstBytesOf(image: string, truth: Truth): (va: string) => string {
  return (va) => {
    const raw = new RawImage(image);
    try {
      const bytes = new VirtualReader(raw, truth.paging, Number(BigInt(truth.dtb))).read(BigInt(va), 8);
      if (!bytes) throw new Error(`${va} is not mapped`);
      return Buffer.from(bytes).toString('hex');
    } finally {
      raw.close();
    }
  };
}
