// Lookups over the callbacks of one result: which findings speak of a callback, which
// registrations belong to a driver, and which callbacks the Callbacks view's filters keep.

import { isSuspiciousVerdict } from '../../common/findings';
import type {
  AnalysisResult,
  Callback,
  CallbackHead,
  CallbackKind,
  Driver,
  Finding,
} from '../../common/model';

/** Findings about callback entries: the callback kinds, an orphan System thread, a hooked IDT or GDT gate. */
const ENTRY_FINDING = /^(callback-|orphan-thread$|idt-hook$|gdt-call-gate$)/;

/**
 * The row id of a callback: the address of its array slot or list record; an object callback's
 * record holds a pre- and a post-operation routine, two rows, the post one marked.
 */
export function callbackId(callback: Callback): string {
  return callback.operation === 'post' ? `${callback.entry}-post` : callback.entry;
}

/**
 * Callback findings by each entry their evidence names: the slot or record, the orphan thread, or
 * every processor's gate that one hooked-gate finding speaks for.
 */
export function findingsByCallback(
  findings: readonly Finding[],
  entries: readonly Callback[],
): Map<string, Finding[]> {
  const known = new Set(entries.map(callbackId));
  const byEntry = new Map<string, Finding[]>();
  for (const finding of findings) {
    if (!ENTRY_FINDING.test(finding.kind)) continue;
    for (const entry of new Set(finding.evidence.addresses ?? []))
      if (known.has(entry)) byEntry.set(entry, [...(byEntry.get(entry) ?? []), finding]);
  }
  return byEntry;
}

/** The callback a finding is about (the first entry its evidence names), when it is in the result. */
export function callbackOfFinding(result: AnalysisResult, finding: Finding): Callback | null {
  if (!ENTRY_FINDING.test(finding.kind)) return null;
  const entry = finding.evidence.addresses?.[0];
  return result.callbacks.entries.find((c) => c.entry === entry) ?? null;
}

/** Suspicious: a finding names it, or its routine is judged a hook (in no module, patched…). */
export function isSuspiciousCallback(callback: Callback, findings: ReadonlyMap<string, Finding[]>): boolean {
  return (findings.get(callback.entry)?.length ?? 0) > 0 || isSuspiciousVerdict(callback.routine.verdict);
}

export interface CallbackFilter {
  kind: CallbackKind | 'all';
  suspiciousOnly: boolean;
}

export function filterCallbacks(
  entries: readonly Callback[],
  filter: CallbackFilter,
  findings: ReadonlyMap<string, Finding[]>,
): Callback[] {
  return entries.filter(
    (c) =>
      (filter.kind === 'all' || c.kind === filter.kind) &&
      (!filter.suspiciousOnly || isSuspiciousCallback(c, findings)),
  );
}

/**
 * What a driver registered beyond its IRP table: the callbacks whose routine lies in its module,
 * and the shutdown notifications naming its driver object or one of its devices.
 */
export function driverRegistrations(result: AnalysisResult, driver: Driver): Callback[] {
  const module = driver.module?.toLowerCase() ?? null;
  const devices = new Set(driver.devices);
  return result.callbacks.entries.filter(
    (c) =>
      (module !== null && c.owner?.toLowerCase() === module) ||
      c.driver === driver.objectVa ||
      (c.device !== null && devices.has(c.device)),
  );
}

/**
 * The callbacks a comparison entry's key names in one image. The key is the comparison's identity
 * of a callback — "kind|module+offset", or "kind|code:<first bytes or address>" for one in no
 * module (docs/json.md) — and the entry carries no address, so the callbacks are found by it.
 */
export function callbacksOfDiffKey(result: AnalysisResult, key: string): Callback[] {
  const bar = key.indexOf('|');
  if (bar < 0) return [];
  const kind = key.slice(0, bar);
  const where = key.slice(bar + 1);
  return result.callbacks.entries.filter((c) => {
    if (c.kind !== kind) return false;
    if (c.owner !== null && c.routine.offset !== null)
      return `${c.owner.toLowerCase()}+${c.routine.offset}` === where;
    return `code:${c.routine.disassembly?.bytes ?? c.routine.address}` === where;
  });
}

/** "not available: why" or "partial: why" for a head that was not read whole; null when it was. */
export function headGap(head: CallbackHead): string | null {
  if (head.coverage.state === 'complete') return null;
  const word = head.coverage.state === 'partial' ? 'partial' : 'not available';
  const why = head.coverage.missing.join('; ');
  return why ? `${word}: ${why}` : word;
}
