// Each processor's table of connected interrupt objects, KPRCB.InterruptObject[256] (x64 kernels
// whose gates enter ntoskrnl's KiIsrThunk: every ISF in ../shared/isf, from 7601.24540 on). The
// gate then tells nothing of the driver; the object for its vector does, and its ServiceRoutine
// is judged as an x86 gate's interrupt object is (wdbgark's wa_idt reads the same array).
//
// Facts (_KPRCB and _KINTERRUPT of every ISF in ../shared/isf): InterruptObject is an array of 256
// pointers indexed by vector, at 0x2200 (7601), 0x2E00 (9600, 14393), 0x2E80 (17763, 18362),
// 0x3140 (19041), 0x3400 (20348, 22000): it moves with every release, so without a symbol file
// it is found by its structure, the run of slots whose objects each say (KINTERRUPT.Vector @0x58,
// Type 0x16 @0, ServiceRoutine @0x18, the same in all eight) that their vector is their index.

import type { KernelMemory } from '../kernel/memory';
import type { LayoutProfile } from '../profile';
import type { Processor } from './processors';

const INTERRUPT_OBJECT_TYPE = 0x16;
const VECTORS = 256;
const SLOT = 8n;
/** How much of a KPRCB is searched: the largest in the ISFs is 0xBF00 bytes. */
const PRCB_BYTES = 0xc000;
const X64 = { vector: 0x58, serviceRoutine: 0x18 };

export interface VectorObjectInputs {
  memory: KernelMemory;
  profile: LayoutProfile | null;
}

/** One processor's array: where it is and how that was established. */
export interface VectorObjects {
  base: bigint;
  /** Its offset in the KPRCB. */
  offset: bigint;
  method: string;
  /** The connected interrupt object of `vector` and its ServiceRoutine, or null. */
  at(vector: number): { object: bigint; service: bigint } | null;
}

function fieldOffsets(profile: LayoutProfile | null): { vector: number; serviceRoutine: number } {
  const offset = (name: string, fallback: number) =>
    profile?.hasField('_KINTERRUPT', name) ? profile.field('_KINTERRUPT', name).offset : fallback;
  return {
    vector: offset('Vector', X64.vector),
    serviceRoutine: offset('ServiceRoutine', X64.serviceRoutine),
  };
}

/** The object at `object` when it is a KINTERRUPT (of `vector`, when given), with its ServiceRoutine. */
function interruptObject(
  memory: KernelMemory,
  object: bigint,
  fields: { vector: number; serviceRoutine: number },
): { vector: number; service: bigint } | null {
  const header = memory.bytes(object, Math.max(fields.vector + 4, fields.serviceRoutine + 8));
  if (!header) return null;
  const view = new DataView(header.buffer, header.byteOffset, header.length);
  if (view.getUint16(0, true) !== INTERRUPT_OBJECT_TYPE) return null;
  const service = view.getBigUint64(fields.serviceRoutine, true);
  const vector = view.getUint32(fields.vector, true);
  return memory.isKernelAddress(service) && vector < VECTORS ? { vector, service } : null;
}

/** Processor `processor`'s array, or why it could not be had; null for kernels without one (x86). */
export function findVectorObjects(
  inputs: VectorObjectInputs,
  processor: Processor,
  /** Another processor's table, found by structure: every KPRCB of a kernel has it at the same offset. */
  sibling?: VectorObjects,
): VectorObjects | string | null {
  const { memory, profile } = inputs;
  if (memory.pointerSize !== 8) return null;
  const fields = fieldOffsets(profile);
  const located = profile?.hasField('_KPRCB', 'InterruptObject')
    ? symbolArray(processor, profile.field('_KPRCB', 'InterruptObject').offset)
    : sibling
      ? { base: processor.prcb + sibling.offset, method: sibling.method }
      : searchArray(memory, processor, fields);
  if (typeof located === 'string') return located;
  const slots = memory.bytes(located.base, VECTORS * Number(SLOT));
  if (!slots) return `the table (${located.method}) is not in the image`;
  const view = new DataView(slots.buffer, slots.byteOffset, slots.length);
  return {
    ...located,
    offset: located.base - processor.prcb,
    at(vector) {
      const object = view.getBigUint64(vector * Number(SLOT), true);
      if (object === 0n || !memory.isKernelAddress(object)) return null;
      const found = interruptObject(memory, object, fields);
      return found && found.vector === vector ? { object, service: found.service } : null;
    },
  };
}

function symbolArray(processor: Processor, offset: number): { base: bigint; method: string } {
  return {
    base: processor.prcb + BigInt(offset),
    method: `symbol file: _KPRCB.InterruptObject +0x${offset.toString(16)}`,
  };
}

/**
 * The array in this KPRCB where the interrupt objects its slots point at each name their slot's
 * vector: the base most of them agree on.
 */
function searchArray(
  memory: KernelMemory,
  processor: Processor,
  fields: { vector: number; serviceRoutine: number },
): { base: bigint; method: string } | string {
  const prcb = memory.scanBytes(processor.prcb, PRCB_BYTES);
  const view = new DataView(prcb.buffer, prcb.byteOffset, prcb.length);
  const votes = new Map<bigint, number>();
  const checked = new Map<bigint, number | null>();
  for (let at = 0; at + 8 <= prcb.length; at += 8) {
    const value = view.getBigUint64(at, true);
    if (value === 0n || !memory.isKernelAddress(value)) continue;
    let vector = checked.get(value);
    if (vector === undefined) {
      vector = interruptObject(memory, value, fields)?.vector ?? null;
      checked.set(value, vector);
    }
    if (vector === null || at < vector * 8) continue;
    const base = BigInt(at - vector * 8);
    votes.set(base, (votes.get(base) ?? 0) + 1);
  }
  const [best] = [...votes.entries()].sort((a, b) => b[1] - a[1] || Number(a[0] - b[0]));
  if (!best)
    return 'none found in the KPRCB (kernels whose gates do not enter KiIsrThunk have no such table)';
  const [offset] = best;
  return {
    base: processor.prcb + offset,
    method: `found by structure: KPRCB+0x${offset.toString(16)}, each interrupt object at the slot of its vector`,
  };
}
