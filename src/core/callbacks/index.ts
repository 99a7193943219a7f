// The callbacks stage: every kind's array or list located (symbol file, else the kernel's code),
// its entries read (bounded, each bad slot or record a warning), each routine judged like an IRP
// handler against the module that holds it, and the findings a rootkit's registration makes.

import { hex } from '../../common/hex';
import { CALLBACK_LABELS } from '../../common/callback-labels';
import type { Callback, CallbackHead } from '../../common/model';
import { readArray } from './arrays';
import { callbackFindings } from './findings';
import { callbackSources, type CallbackSource } from './kinds';
import { readList } from './lists';
import { locateSource } from './locate';
import { readRecord, type RawCallback } from './records';
import { readSystemThreads } from './threads';
import { readDescriptorTables } from './descriptors';
import { findProcessors } from './processors';
import { readTimers } from './timers';
import { descriptorFindings } from './descriptor-findings';
import { readObjectCallbacks } from './object-callbacks';
import type { CallbackInputs, CallbackStage } from './inputs';

export function readCallbacks(inputs: CallbackInputs): CallbackStage {
  const heads: CallbackHead[] = [];
  const entries: Callback[] = [];
  const warnings: string[] = [];
  for (const source of callbackSources(inputs.build, inputs.memory.pointerSize)) {
    const read = readKind(inputs, source);
    heads.push(read.head);
    entries.push(...read.entries);
    warnings.push(...read.warnings);
  }
  const objects = readObjectCallbacks(inputs);
  heads.push(...objects.heads);
  entries.push(...objects.entries);
  warnings.push(...objects.warnings);
  const threads = readSystemThreads(inputs);
  const processors = findProcessors({ ...inputs, kernelBase: inputs.kernel.base });
  const tables = readDescriptorTables(inputs, processors);
  const timers = readTimers({
    ...inputs,
    pe: inputs.kernel.pe,
    exports: inputs.kernel.exports,
    processors,
  });
  for (const read of [threads, tables.idt, tables.gdt, timers]) {
    heads.push(read.head);
    entries.push(...read.entries);
    warnings.push(...read.warnings);
  }
  return {
    section: { heads, entries },
    findings: [
      ...callbackFindings(entries, inputs.moduleList, inputs.moduleListComplete),
      ...descriptorFindings(entries, interruptOwners(inputs), inputs.moduleList, inputs.moduleListComplete),
    ],
    warnings,
    absent: new Set(objects.absent),
  };
}

/** ntoskrnl's name in this image and the HAL's (listed as hal.dll whichever HAL file was loaded). */
function interruptOwners(inputs: CallbackInputs): Set<string> {
  const kernel = inputs.modules.owner(inputs.kernel.base)?.name;
  return new Set(['hal.dll', ...(kernel ? [kernel.toLowerCase()] : [])]);
}

function readKind(
  inputs: CallbackInputs,
  source: CallbackSource,
): { head: CallbackHead; entries: Callback[]; warnings: string[] } {
  const { memory, kernel, profile } = inputs;
  const label = CALLBACK_LABELS[source.kind];
  const { found, tried } = locateSource(memory, kernel.pe, kernel.exports, profile, source);
  if (!found) {
    const why = `the ${label} ${source.shape.shape} was not found (${tried.join('; ')})`;
    return {
      head: {
        kind: source.kind,
        address: null,
        method: null,
        coverage: { state: 'unavailable', missing: [why] },
      },
      entries: [],
      warnings: [why],
    };
  }
  const { raw, problems } = readEntries(inputs, source, found.address);
  const entries = raw.map((entry) => judged(inputs, source, entry));
  return {
    head: {
      kind: source.kind,
      address: hex(found.address),
      method: found.method,
      coverage: { state: problems.length > 0 ? 'partial' : 'complete', missing: problems },
    },
    entries,
    warnings: problems,
  };
}

function readEntries(
  inputs: CallbackInputs,
  source: CallbackSource,
  address: bigint,
): { raw: RawCallback[]; problems: string[] } {
  const { memory } = inputs;
  const label = CALLBACK_LABELS[source.kind];
  if (source.shape.shape === 'array') {
    const reading = readArray(memory, address, source.shape.slots, label);
    const raw = reading.slots.map((slot): RawCallback => ({
      slot: slot.index,
      entry: slot.slotVa,
      block: slot.block,
      routine: slot.routine,
      context: slot.context,
      component: null,
      device: null,
      driver: null,
    }));
    return { raw, problems: reading.problems };
  }
  const fields = source.shape.fields;
  const walk = readList(memory, address, label);
  const raw: RawCallback[] = [];
  const problems = [...walk.problems];
  for (const [index, record] of walk.records.entries()) {
    const read = readRecord(memory, record, index, fields, inputs.devices, inputs.drivers);
    if (typeof read === 'string') problems.push(`${label} ${index} (${hex(record)}): ${read}`);
    else raw.push(read);
  }
  return { raw, problems };
}

/** The module of the driver a record names (file-system registration), by its DriverStart. */
function registrantModule(inputs: CallbackInputs, driverVa: bigint | null) {
  if (driverVa === null) return null;
  const driver = inputs.drivers.find((d) => BigInt(d.objectVa) === driverVa);
  return driver ? inputs.modules.owner(BigInt(driver.start)) : null;
}

function judged(inputs: CallbackInputs, source: CallbackSource, raw: RawCallback): Callback {
  const holder = inputs.modules.owner(raw.routine);
  const name = `${CALLBACK_LABELS[source.kind]} ${raw.slot}`;
  // A record that names its driver is judged against that driver's module: a routine elsewhere
  // is another module's code registered in its name (a redirected record). A shutdown packet's
  // routine is its device's driver's IRP_MJ_SHUTDOWN, judged with the IRP table.
  const registrant = source.kind === 'fs-registration' ? registrantModule(inputs, raw.driver) : null;
  const routine = inputs.judge.judge(raw.routine, registrant ?? holder, raw.slot, name, true);
  return {
    kind: source.kind,
    slot: raw.slot,
    entry: hex(raw.entry),
    block: raw.block === null ? null : hex(raw.block),
    routine,
    owner: holder?.name ?? null,
    context: raw.context === null ? null : hex(raw.context),
    component: raw.component,
    device: raw.device === null ? null : hex(raw.device),
    driver: raw.driver === null ? null : hex(raw.driver),
  };
}
