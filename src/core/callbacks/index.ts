// The callbacks stage: every kind's head located (symbol file, else the kernel's code), its
// entries read (bounded, each bad slot a warning), each routine judged like an IRP handler
// against the module that holds it, and the findings a rootkit's registration makes.

import { hex } from '../../common/hex';
import type { Callback, CallbackHead, CallbackSection, Finding, Module } from '../../common/model';
import type { KernelImageFacts } from '../kernel/discover';
import type { KernelMemory } from '../kernel/memory';
import type { LayoutProfile } from '../profile';
import type { HandlerJudge } from '../analysis/handlers';
import type { ModuleSet } from '../analysis/module-set';
import { callbackFindings } from './findings';
import { NOTIFY_ARRAYS, type NotifyArrayKind } from './kinds';
import { locateNotifyArray, readNotifyArray } from './notify-arrays';

export interface CallbackInputs {
  memory: KernelMemory;
  kernel: KernelImageFacts;
  profile: LayoutProfile | null;
  build: number | null;
  modules: ModuleSet;
  /** The result's modules, for whether a routine's module is unlinked. */
  moduleList: readonly Module[];
  judge: HandlerJudge;
}

export interface CallbackStage {
  section: CallbackSection;
  findings: Finding[];
  warnings: string[];
}

export function readCallbacks(inputs: CallbackInputs): CallbackStage {
  const heads: CallbackHead[] = [];
  const entries: Callback[] = [];
  const warnings: string[] = [];
  for (const kind of NOTIFY_ARRAYS) {
    const read = readNotifyKind(inputs, kind);
    heads.push(read.head);
    entries.push(...read.entries);
    warnings.push(...read.warnings);
  }
  return {
    section: { heads, entries },
    findings: callbackFindings(entries, inputs.moduleList),
    warnings,
  };
}

function readNotifyKind(
  inputs: CallbackInputs,
  kind: NotifyArrayKind,
): { head: CallbackHead; entries: Callback[]; warnings: string[] } {
  const { memory, kernel, profile, build, modules, judge } = inputs;
  const { found, tried } = locateNotifyArray(memory, kernel.pe, kernel.exports, profile, build, kind);
  if (!found) {
    const why = `the ${kind.label} array was not found (${tried.join('; ')})`;
    return {
      head: {
        kind: kind.kind,
        address: null,
        method: null,
        coverage: { state: 'unavailable', missing: [why] },
      },
      entries: [],
      warnings: [why],
    };
  }
  const reading = readNotifyArray(memory, found, kind.label);
  const entries = reading.slots.map((slot): Callback => {
    const holder = modules.owner(slot.routine);
    const routine = judge.judge(slot.routine, holder, slot.index, `${kind.label} ${slot.index}`, true);
    return {
      kind: kind.kind,
      slot: slot.index,
      entry: hex(slot.slotVa),
      block: hex(slot.block),
      routine,
      owner: holder?.name ?? null,
      context: slot.context === null ? null : hex(slot.context),
    };
  });
  return {
    head: {
      kind: kind.kind,
      address: hex(found.address),
      method: found.method,
      coverage: { state: reading.problems.length > 0 ? 'partial' : 'complete', missing: reading.problems },
    },
    entries,
    warnings: reading.problems,
  };
}
