// Each processor's interrupt and global descriptor tables: the gates judged like callbacks. An
// interrupt gate belongs in ntoskrnl or the HAL; on x86 a connected device interrupt enters the
// DispatchCode of its KINTERRUPT in nonpaged pool, and then the routine judged is the object's
// ServiceRoutine (the driver's ISR), as the pykd kdar idt.py check and wdbgark's wa_idt do. A
// call gate in the GDT is a door from user mode that Windows never opens.
//
// Facts: the processors come from processors.ts; x86 KPCR IDT @0x38, GDT @0x3C (ReactOS
// sdk/include/ndk/i386/ketypes.h), KIDTENTRY { Offset, Selector, Access, ExtendedOffset }; x64
// KPCR GdtBase @0x0, IdtBase @0x38 (_KPCR of every ISF in ../shared/isf), _KIDTENTRY64 { OffsetLow @0, Selector @2, Type and
// Present in the word @4, OffsetMiddle @6, OffsetHigh @8 }. The interrupt object a gate enters
// is found by interrupt-object.ts; x64 kernels with KiIsrThunk (every ISF here, 7601.24540 on)
// enter ntoskrnl instead. A descriptor's type is Access bits 8-12 (x86) or byte 5 (x64): 0x05 task gate (no offset),
// 0x0E/0x0F interrupt/trap gate, 0x0C call gate with the S bit clear (Intel SDM vol. 3, 6.11 and
// 5.8.3). Windows' x86 GDT limit is 0x3FF; the x64 GDT holds its standard descriptors below 0x58.

import { hex } from '../../common/hex';
import { isSuspiciousVerdict } from '../../common/findings';
import type { Callback, CallbackHead } from '../../common/model';
import type { KernelMemory } from '../kernel/memory';
import type { HandlerJudge } from '../verdicts/handlers';
import type { ModuleSet } from '../verdicts/module-set';
import type { LayoutProfile } from '../profile';
import { interruptObjectAt } from './interrupt-object';
import { findVectorObjects, type VectorObjects } from './vector-objects';
import type { Processor, ProcessorList } from './processors';

const VECTORS = 256;
const X86_GDT_BYTES = 0x400;
const X64_GDT_BYTES = 0x58;
const CALL_GATE = 0x0c;
const TASK_GATE = 0x05;

export interface DescriptorInputs {
  memory: KernelMemory;
  profile: LayoutProfile | null;
  kernel: { base: bigint };
  modules: ModuleSet;
  judge: HandlerJudge;
}

type KindReading = { head: CallbackHead; entries: Callback[]; warnings: string[] };

/** Where gate `vector` of this table points, or null for a gate with no offset. */
function gateTarget(view: DataView, at: number, x64: boolean): bigint | null {
  const type = (view.getUint8(at + 5) & 0x1f) as number;
  const present = (view.getUint8(at + 5) & 0x80) !== 0;
  if (!present || type === TASK_GATE) return null;
  const low = BigInt(view.getUint16(at, true));
  const middle = BigInt(view.getUint16(at + 6, true));
  if (!x64) return (middle << 16n) | low;
  return (BigInt(view.getUint32(at + 8, true)) << 32n) | (middle << 16n) | low;
}

/**
 * The interrupt object a gate enters: in pool, the one whose DispatchCode it is (never on a kernel
 * whose gates enter KiIsrThunk: there a gate into pool is code in no module); in ntoskrnl (an x64
 * KiIsrThunk stub), the one the processor's table holds for its vector, while the stub itself
 * judges intact (a patched stub is the gate's finding, whatever the table holds).
 */
function enteredObject(
  inputs: DescriptorInputs,
  objects: VectorObjects | null,
  handler: bigint,
  vector: number,
  name: string,
): { object: bigint; service: bigint; dispatch: bigint | null } | null {
  const holder = inputs.modules.owner(handler);
  if (!holder) return objects ? null : interruptObjectAt(inputs.memory, handler);
  if (!objects || holder !== inputs.modules.owner(inputs.kernel.base)) return null;
  const found = objects.at(vector);
  if (!found || isSuspiciousVerdict(inputs.judge.judge(handler, holder, vector, name, false).verdict))
    return null;
  return { ...found, dispatch: null };
}

function idtEntries(
  inputs: DescriptorInputs,
  processor: Processor,
  objects: VectorObjects | null,
): { entries: Callback[]; problem: string | null } {
  const { memory, modules, judge } = inputs;
  const x64 = memory.pointerSize === 8;
  const size = x64 ? 16 : 8;
  const table = memory.bytes(processor.idt, VECTORS * size);
  if (!table)
    return {
      entries: [],
      problem: `processor ${processor.number}: its IDT at ${hex(processor.idt)} is not in the image`,
    };
  const view = new DataView(table.buffer, table.byteOffset, table.length);
  const entries: Callback[] = [];
  for (let vector = 0; vector < VECTORS; vector++) {
    const handler = gateTarget(view, vector * size, x64);
    if (handler === null) continue;
    const name = `IDT 0x${vector.toString(16)} of processor ${processor.number}`;
    const interrupt = enteredObject(inputs, objects, handler, vector, name);
    const routineVa = interrupt?.service ?? handler;
    const holder = modules.owner(routineVa);
    entries.push({
      kind: 'idt',
      slot: vector,
      entry: hex(processor.idt + BigInt(vector * size)),
      block: interrupt ? hex(interrupt.object) : null,
      routine: judge.judge(routineVa, holder, vector, name, false),
      owner: holder?.name ?? null,
      context: null,
      component: null,
      device: null,
      driver: null,
      processor: processor.number,
      ...(interrupt?.dispatch != null
        ? {
            dispatch: {
              address: hex(interrupt.dispatch),
              module: modules.owner(interrupt.dispatch)?.name ?? null,
            },
          }
        : {}),
    });
  }
  return { entries, problem: null };
}

function callGates(
  inputs: DescriptorInputs,
  processor: Processor,
): { entries: Callback[]; problem: string | null } {
  const { memory, modules, judge } = inputs;
  const x64 = memory.pointerSize === 8;
  const bytes = x64 ? X64_GDT_BYTES : X86_GDT_BYTES;
  const table = memory.bytes(processor.gdt, bytes);
  if (!table)
    return {
      entries: [],
      problem: `processor ${processor.number}: its GDT at ${hex(processor.gdt)} is not in the image`,
    };
  const view = new DataView(table.buffer, table.byteOffset, table.length);
  const entries: Callback[] = [];
  for (let at = 0; at + 8 <= bytes; at += 8) {
    const access = view.getUint8(at + 5);
    const system = (access & 0x10) === 0 && (access & 0x80) !== 0;
    if (!system) continue;
    const type = access & 0x0f;
    if (type === CALL_GATE && (!x64 || at + 16 <= bytes)) {
      const target = gateTarget(view, at, x64)!;
      const holder = modules.owner(target);
      const name = `GDT call gate 0x${at.toString(16)} of processor ${processor.number}`;
      entries.push({
        kind: 'gdt',
        slot: at,
        entry: hex(processor.gdt + BigInt(at)),
        block: null,
        routine: judge.judge(target, holder, at, name, true),
        owner: holder?.name ?? null,
        context: null,
        component: null,
        device: null,
        driver: null,
        processor: processor.number,
      });
    }
    // x64 system descriptors (TSS, LDT, call gate) take two slots.
    if (x64) at += 8;
  }
  return { entries, problem: null };
}

function readKind(
  kind: 'idt' | 'gdt',
  list: ProcessorList,
  read: (processor: Processor) => { entries: Callback[]; problem: string | null; note?: string },
): KindReading {
  const label = kind === 'idt' ? 'interrupt descriptor tables' : 'global descriptor tables';
  if (list.processors.length === 0) {
    const why = `the ${label} were not read: ${list.problems.join('; ') || 'no processor was found'}`;
    return {
      head: { kind, address: null, method: null, coverage: { state: 'unavailable', missing: [why] } },
      entries: [],
      warnings: [why],
    };
  }
  const entries: Callback[] = [];
  const problems = [...list.problems];
  const notes = new Set<string>();
  for (const processor of list.processors) {
    const reading = read(processor);
    entries.push(...reading.entries);
    if (reading.problem) problems.push(reading.problem);
    if (reading.note) notes.add(reading.note);
  }
  return {
    head: {
      kind,
      address: list.address === null ? null : hex(list.address),
      method: [`${list.method}: ${list.processors.length} processor(s)`, ...notes].join('; '),
      coverage: { state: problems.length > 0 ? 'partial' : 'complete', missing: problems },
    },
    entries,
    warnings: problems.filter((p) => !list.problems.includes(p) || kind === 'idt'),
  };
}

/** The IDT gates and GDT call gates of every processor KiProcessorBlock lists. */
export function readDescriptorTables(
  inputs: DescriptorInputs,
  list: ProcessorList,
): { idt: KindReading; gdt: KindReading } {
  let found: VectorObjects | null = null;
  return {
    idt: readKind('idt', list, (p) => {
      const objects = findVectorObjects(inputs, p, found ?? undefined);
      if (objects !== null && typeof objects !== 'string') found ??= objects;
      const reading = idtEntries(inputs, p, typeof objects === 'string' ? null : objects);
      if (objects === null) return reading;
      return {
        ...reading,
        note: `interrupt objects: ${typeof objects === 'string' ? objects : objects.method}`,
      };
    }),
    gdt: readKind('gdt', list, (p) => callGates(inputs, p)),
  };
}
