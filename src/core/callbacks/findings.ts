// A registered routine a rootkit would leave: in no module (pool code), in a module unlinked from
// PsLoadedModuleList, whose first instructions jump out of its module, or (for a record that names
// its driver) in another driver's module. One finding per
// callback, with the slot, the routine, its disassembly and its owner as evidence. A routine in
// a listed module that is its own is the registering driver's business: no finding.

import type { Callback, Finding, Hex, Module } from '../../common/model';
import type { FindingKind, Severity } from '../../common/findings';
import { CALLBACK_LABELS } from '../../common/callback-labels';
import { callbackIdentity } from './identity';
import { inUnlinkedModule } from './unlinked';

function describe(callback: Callback): string {
  const routine = callback.routine;
  if (callback.kind === 'system-thread')
    return `System thread ${callback.tid ?? '?'}, place ${callback.slot} on the System process's list (ETHREAD ${callback.entry}) → StartAddress ${routine.address}`;
  if (callback.kind === 'timer')
    return `KTIMER ${callback.entry} on ${callback.processor === undefined ? 'the' : `processor ${callback.processor}'s`} timer table, entry ${callback.slot}, period ${callback.period ?? 0} ms → KDPC ${callback.block ?? '?'} → DeferredRoutine ${routine.address}`;
  const operation = callback.operation ? ` ${callback.operation}-operation` : '';
  return `${CALLBACK_LABELS[callback.kind]} slot ${callback.slot}${operation} (${callback.entry}) → ${routine.address}`;
}

function timerWhen(callback: Callback): string {
  const period = callback.period ?? 0;
  return period > 0
    ? `every ${period} ms, when its timer (KTIMER ${callback.entry}) expires`
    : `when its timer (KTIMER ${callback.entry}) expires`;
}

const PARTIAL_MODULE_LIST =
  ' PsLoadedModuleList could not be read completely in this image, so the module may be one whose loader entry was lost.';

function judged(
  callback: Callback,
  unlinked: (address: Hex) => boolean,
  moduleListComplete: boolean,
): { kind: FindingKind; severity: Severity; subject: string; explanation: string } | null {
  if (callback.kind === 'system-thread') return orphanThread(callback, moduleListComplete);
  const label = CALLBACK_LABELS[callback.kind];
  const routine = callback.routine;
  if (routine.verdict === 'no-module')
    return {
      kind: 'callback-no-module',
      severity: moduleListComplete ? 'critical' : 'high',
      subject: routine.address,
      explanation: `${callback.kind === 'timer' ? "A timer's DPC routine is" : `A routine for ${label} is registered`} at ${routine.address}, in no loaded module: code in pool memory that the kernel calls ${callback.kind === 'timer' ? timerWhen(callback) : 'on every event'}.${moduleListComplete ? '' : PARTIAL_MODULE_LIST}`,
    };
  if (routine.verdict === 'inline-patched')
    return {
      kind: 'callback-inline',
      severity: 'critical',
      subject: callback.owner ?? routine.address,
      explanation: `The ${label} routine ${callback.owner}+${routine.offset} begins with a jump to ${routine.target?.address ?? '?'}${routine.target?.module ? ` in ${routine.target.module}` : ', in no module'}.`,
    };
  if (callback.owner !== null && unlinked(callback.routine.address))
    return {
      kind: 'callback-hidden-module',
      severity: 'critical',
      subject: callback.owner,
      explanation: `A routine for ${label} is registered in ${callback.owner}, a module unlinked from PsLoadedModuleList.`,
    };
  if (routine.verdict === 'other-module')
    return {
      kind: 'callback-other-module',
      severity: 'high',
      subject: callback.owner ?? routine.address,
      explanation: `The ${label} record names the driver object ${callback.driver ?? '?'}, but its routine is ${callback.owner}+${routine.offset}, in another driver's module: the record was redirected, or a driver registered code that is not its own.`,
    };
  return null;
}

/**
 * A System thread whose StartAddress is in no module. Its other verdicts are left to the thread
 * views: a thread in the rootkit's unlinked module is already that module's finding.
 */
function orphanThread(
  callback: Callback,
  moduleListComplete: boolean,
): { kind: FindingKind; severity: Severity; subject: string; explanation: string } | null {
  const routine = callback.routine;
  if (routine.verdict !== 'no-module') return null;
  return {
    kind: 'orphan-thread',
    severity: moduleListComplete ? 'critical' : 'high',
    subject: routine.address,
    explanation: `System thread ${callback.tid ?? '?'} (ETHREAD ${callback.entry}) was started at ${routine.address}, in no loaded module: kernel code running from pool memory with no driver to show for it.${moduleListComplete ? '' : PARTIAL_MODULE_LIST}`,
  };
}

/** `moduleListComplete`: PsLoadedModuleList was read to its end (else "in no module" is only suspected). */
export function callbackFindings(
  callbacks: readonly Callback[],
  modules: readonly Module[],
  moduleListComplete: boolean,
): Finding[] {
  const unlinked = inUnlinkedModule(modules);
  const findings: Finding[] = [];
  for (const callback of callbacks) {
    // The descriptor tables' gates have their own findings (descriptor-findings.ts).
    if (callback.kind === 'idt' || callback.kind === 'gdt') continue;
    const verdict = judged(callback, unlinked, moduleListComplete);
    if (!verdict) continue;
    const routine = callback.routine;
    findings.push({
      // The same callback has the same id on every boot (the comparison pairs findings by it).
      id: `${verdict.kind}:${callbackIdentity(callback)}`,
      severity: verdict.severity,
      kind: verdict.kind,
      subject: verdict.subject,
      explanation: verdict.explanation,
      evidence: {
        addresses: [callback.entry, ...(callback.block ? [callback.block] : []), routine.address],
        ...(callback.owner ? { modules: [callback.owner] } : {}),
        handlers: [
          { name: routine.name, address: routine.address, module: routine.module, verdict: routine.verdict },
        ],
        ...(routine.disassembly ? { disassembly: routine.disassembly } : {}),
        detail: describe(callback),
      },
    });
  }
  return findings;
}
