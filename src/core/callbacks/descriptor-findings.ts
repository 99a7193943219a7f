// The descriptor tables' findings: an interrupt gate that leads outside ntoskrnl and the HAL (or,
// through a connected interrupt object, to a service routine in no module or in a module unlinked
// from PsLoadedModuleList), and any call gate in a GDT. One finding per vector (or GDT selector) and target, naming every processor whose table
// holds it: a rootkit patches each processor's table the same way.

import type { Callback, Finding, Hex, Module } from '../../common/model';
import type { FindingKind, Severity } from '../../common/findings';
import { callbackIdentity } from './identity';
import { inUnlinkedModule } from './unlinked';

const PARTIAL_MODULE_LIST =
  ' PsLoadedModuleList could not be read completely in this image, so the module may be one whose loader entry was lost.';

interface Verdict {
  kind: FindingKind;
  severity: Severity;
  explanation: string;
  /** Evidence beyond the gates, the object and the routine. */
  addresses?: Hex[];
}

function where(gate: Callback): string {
  return gate.owner ? `${gate.owner}+${gate.routine.offset}` : `${gate.routine.address}, in no module`;
}

function idtVerdict(
  gate: Callback,
  interruptOwners: ReadonlySet<string>,
  unlinked: (address: Hex) => boolean,
  moduleListComplete: boolean,
): Verdict | null {
  const vector = `0x${gate.slot.toString(16)}`;
  if (gate.routine.verdict === 'no-module')
    return {
      kind: 'idt-hook',
      severity: moduleListComplete ? 'critical' : 'high',
      explanation: `Interrupt ${vector} ${gate.block ? `enters the interrupt object ${gate.block}, whose service routine is` : 'leads to'} ${gate.routine.address}, in no loaded module: code in pool memory the processor runs on that interrupt.${moduleListComplete ? '' : PARTIAL_MODULE_LIST}`,
    };
  if (gate.routine.verdict === 'inline-patched')
    return {
      kind: 'idt-hook',
      severity: 'critical',
      explanation: `The handler of interrupt ${vector}, ${where(gate)}, begins with a jump to ${gate.routine.target?.address ?? '?'}${gate.routine.target?.module ? ` in ${gate.routine.target.module}` : ', in no module'}.`,
    };
  if (gate.dispatch && !(gate.dispatch.module && interruptOwners.has(gate.dispatch.module.toLowerCase())))
    return {
      kind: 'idt-hook',
      severity: gate.dispatch.module === null && !moduleListComplete ? 'high' : 'critical',
      addresses: [gate.dispatch.address],
      explanation: `Interrupt ${vector} enters the interrupt object ${gate.block}, whose dispatch code jumps to ${gate.dispatch.module ? `${gate.dispatch.address} in ${gate.dispatch.module}` : `${gate.dispatch.address}, in no module`} instead of the kernel's interrupt dispatcher: that code runs on every interrupt, before the service routine ${where(gate)}.${gate.dispatch.module === null && !moduleListComplete ? PARTIAL_MODULE_LIST : ''}`,
    };
  // A connected interrupt's service routine is its driver's, but never a hidden driver's.
  if (gate.block !== null && gate.owner !== null && unlinked(gate.routine.address))
    return {
      kind: 'idt-hook',
      severity: 'critical',
      explanation: `Interrupt ${vector} enters the interrupt object ${gate.block}, whose service routine is ${where(gate)}, in a module unlinked from PsLoadedModuleList: a hidden driver's code runs on that interrupt.`,
    };
  // A gate itself belongs to the kernel or HAL.
  if (gate.block === null && gate.owner !== null && !interruptOwners.has(gate.owner.toLowerCase()))
    return {
      kind: 'idt-hook',
      severity: 'critical',
      explanation: `Interrupt ${vector} leads to ${where(gate)}, outside ntoskrnl and the HAL, which own every interrupt gate.`,
    };
  return null;
}

function gdtVerdict(gate: Callback, moduleListComplete: boolean): Verdict {
  return {
    kind: 'gdt-call-gate',
    severity: gate.owner === null && !moduleListComplete ? 'high' : 'critical',
    explanation: `The GDT holds a call gate at selector 0x${gate.slot.toString(16)} leading to ${where(gate)}: a door from user mode into ring 0 that Windows never installs.`,
  };
}

/**
 * `interruptOwners`: the lower-cased names of ntoskrnl and the HAL in this image; `modules`: every
 * module found (the unlinked ones marked); `moduleListComplete`: PsLoadedModuleList was read to its end.
 */
export function descriptorFindings(
  gates: readonly Callback[],
  interruptOwners: ReadonlySet<string>,
  modules: readonly Module[],
  moduleListComplete: boolean,
): Finding[] {
  const unlinked = inUnlinkedModule(modules);
  const groups = new Map<string, { verdict: Verdict; gates: Callback[] }>();
  for (const gate of gates) {
    const verdict =
      gate.kind === 'idt'
        ? idtVerdict(gate, interruptOwners, unlinked, moduleListComplete)
        : gate.kind === 'gdt'
          ? gdtVerdict(gate, moduleListComplete)
          : null;
    if (!verdict) continue;
    const key = `${gate.kind}|${gate.slot}|${callbackIdentity(gate)}`;
    const group = groups.get(key) ?? { verdict, gates: [] };
    group.gates.push(gate);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ verdict, gates: held }) => toFinding(verdict, held));
}

function toFinding(verdict: Verdict, gates: Callback[]): Finding {
  const first = gates[0]!;
  const processors = gates.map((g) => g.processor ?? 0).join(', ');
  const subject =
    first.kind === 'idt' ? `IDT 0x${first.slot.toString(16)}` : `GDT 0x${first.slot.toString(16)}`;
  const routine = first.routine;
  return {
    // The same gate has the same id on every boot (the comparison pairs findings by it).
    id: `${verdict.kind}:${callbackIdentity(first)}`,
    severity: verdict.severity,
    kind: verdict.kind,
    subject,
    explanation: `${verdict.explanation} Processor(s): ${processors}.`,
    evidence: {
      addresses: [
        ...gates.map((g) => g.entry),
        ...(first.block ? [first.block] : []),
        ...(verdict.addresses ?? []),
        routine.address,
      ],
      ...(first.owner ? { modules: [first.owner] } : {}),
      handlers: [
        { name: routine.name, address: routine.address, module: routine.module, verdict: routine.verdict },
      ],
      ...(routine.disassembly ? { disassembly: routine.disassembly } : {}),
      detail: `${subject} of processor(s) ${processors} → ${routine.address}`,
    },
  };
}
