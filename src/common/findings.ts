// The shared vocabulary of verdicts and findings. The engine produces them, the builder's ground
// truth names the anomalies it planted with the same words, and the views and reports display them.

import { compareText } from './text-order';

/** What an IRP handler (or other driver callback) points at. */
export const HANDLER_VERDICTS = [
  'own-image', // inside the driver's own image
  'kernel-default', // the kernel's shared default routine (IopInvalidDeviceRequest)
  'kernel', // elsewhere in ntoskrnl (legitimate for built-in drivers)
  'delegated', // an expected port / class / framework module (Wdf01000, storport, ndis, ...)
  'other-module', // another loaded module: an IRP hook
  'no-module', // inside no loaded module (pool, unmapped, stale): highly suspicious
  'inline-patched', // the routine's first instructions jump out of its module
] as const;
export type HandlerVerdict = (typeof HANDLER_VERDICTS)[number];

const SUSPICIOUS_VERDICTS: ReadonlySet<string> = new Set<HandlerVerdict>([
  'other-module',
  'no-module',
  'inline-patched',
]);

/** A verdict that marks a hook or a patch: what the findings, tables, flows and reports flag. */
export function isSuspiciousVerdict(verdict: string): boolean {
  return SUSPICIOUS_VERDICTS.has(verdict);
}

export const FINDING_KINDS = [
  'irp-hook', // a MajorFunction entry points into another module
  'irp-no-module', // a MajorFunction / callback points into no module at all
  'inline-hook', // a dispatch routine's first bytes transfer control out of its module
  'fastio-hook', // a FAST_IO_DISPATCH entry points outside the owning driver
  'hidden-driver', // a driver object found by the pool scan only
  'unlinked-module', // a loader entry found by scanning but missing from PsLoadedModuleList
  'foreign-filter', // a device attached to another driver's stack by a hidden or unknown driver
  'orphan-driver', // a driver whose image range matches no module
  'suspicious-name', // a driver or device name with control or markup characters
  'stale-driver', // a freed pool block that still holds a driver object (an unloaded driver)
  'ssdt-hook', // a system-service table entry points outside the kernel
  'ssdt-inline', // a system service's routine (or the code its entry points at) jumps out of the kernel
  'hidden-process', // a process object found by the pool scan but not on PsActiveProcessHead
  'callback-no-module', // a notify routine or callback in no module (pool, unmapped)
  'callback-hidden-module', // a notify routine or callback in a module unlinked from PsLoadedModuleList
  'callback-inline', // a notify routine or callback whose first bytes jump out of its module
  'callback-other-module', // a callback record that names its driver, whose routine is in another module
  'orphan-thread', // a thread of the System process whose start address is in no module
  'idt-hook', // an interrupt gate leading outside ntoskrnl and the HAL (or to an interrupt object's routine in no module)
  'gdt-call-gate', // a call gate in a processor's GDT (Windows installs none)
  'completion-hook', // a pending IRP will call a completion routine in no module, or in another module than its setter's
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/**
 * Within a severity, findings read as the rootkit's story: what hides (its driver, module and
 * process), then each door it bent (the service and descriptor tables, dispatch code and tables,
 * filters, pending requests), then the callbacks and threads it left running, then names and
 * leftovers. A kind not listed here comes after these, alphabetically.
 */
const STORY_ORDER: readonly FindingKind[] = [
  'hidden-driver',
  'unlinked-module',
  'orphan-driver',
  'hidden-process',
  'ssdt-hook',
  'ssdt-inline',
  'idt-hook',
  'gdt-call-gate',
  'inline-hook',
  'irp-no-module',
  'irp-hook',
  'fastio-hook',
  'foreign-filter',
  'completion-hook',
  'callback-no-module',
  'callback-hidden-module',
  'callback-inline',
  'orphan-thread',
  'suspicious-name',
  'stale-driver',
];

function storyRank(kind: string): number {
  const rank = STORY_ORDER.indexOf(kind as FindingKind);
  return rank < 0 ? STORY_ORDER.length : rank;
}

/** The order findings are listed and numbered in: most severe first, then as the story reads, then by subject. */
export function compareFindings(
  a: { severity: Severity; kind: string; subject: string },
  b: { severity: Severity; kind: string; subject: string },
): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    storyRank(a.kind) - storyRank(b.kind) ||
    compareText(a.kind, b.kind) ||
    compareText(a.subject, b.subject)
  );
}
