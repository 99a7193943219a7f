// The callback arrays (notify routines; registry callbacks before Vista): what makes an address
// one, and reading its slots. A slot is empty or a fast reference to a readable block whose
// Function is a kernel address.

import { hex } from '../../common/hex';
import type { KernelMemory } from '../kernel/memory';
import { fastRefMask } from './kinds';

export interface NotifySlot {
  index: number;
  /** The slot's own address. */
  slotVa: bigint;
  block: bigint;
  routine: bigint;
  context: bigint | null;
}

export interface ArrayReading {
  slots: NotifySlot[];
  /** Slots that hold a reference that cannot be followed, each with why. */
  problems: string[];
}

type SlotValue =
  { kind: 'empty' } | { kind: 'routine'; block: bigint; routine: bigint; context: bigint | null };

function readSlot(memory: KernelMemory, raw: bigint): SlotValue | string {
  if (raw === 0n) return { kind: 'empty' };
  const block = raw & ~fastRefMask(memory.pointerSize);
  if (!memory.isKernelAddress(block)) return `its reference ${hex(raw)} is not a kernel address`;
  const ptr = BigInt(memory.pointerSize);
  const routine = memory.ptr(block + ptr);
  if (routine === null) return `its block ${hex(block)} is not in the image`;
  if (!memory.isKernelAddress(routine))
    return `its block ${hex(block)} names ${hex(routine)}, not a kernel routine`;
  return { kind: 'routine', block, routine, context: memory.ptr(block + 2n * ptr) };
}

function readRawSlots(memory: KernelMemory, address: bigint, slots: number): bigint[] | null {
  const bytes = memory.bytes(address, slots * memory.pointerSize);
  if (!bytes) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Array.from({ length: slots }, (_, i) =>
    memory.pointerSize === 8 ? view.getBigUint64(i * 8, true) : BigInt(view.getUint32(i * 4, true)),
  );
}

/**
 * Why `address` is not the array, or null when it reads as one: in the image, at least one used
 * slot leading to a routine when any slot leads nowhere, and at most half its slots leading
 * nowhere. A corrupted slot of the real array is then a problem of that slot, while a table of
 * other pointers is not taken for the array.
 */
export function rejectArray(memory: KernelMemory, address: bigint, slots: number): string | null {
  const raw = readRawSlots(memory, address, slots);
  if (!raw) return `${hex(address)} is not in the image`;
  let routines = 0;
  let firstProblem: string | null = null;
  let problems = 0;
  for (const [index, value] of raw.entries()) {
    const slot = readSlot(memory, value);
    if (typeof slot === 'string') {
      problems++;
      firstProblem ??= `slot ${index} at ${hex(address)}: ${slot}`;
    } else if (slot.kind === 'routine') routines++;
  }
  if (problems > 0 && (routines === 0 || problems * 2 > slots))
    return `${problems} of its slots lead nowhere (${firstProblem})`;
  return null;
}

export function usedSlots(memory: KernelMemory, address: bigint, slots: number): number {
  return (readRawSlots(memory, address, slots) ?? []).filter((v) => v !== 0n).length;
}

/** Every used slot; a slot whose reference cannot be followed is a problem, not a routine. */
export function readArray(
  memory: KernelMemory,
  address: bigint,
  slotCount: number,
  label: string,
): ArrayReading {
  const raw = readRawSlots(memory, address, slotCount);
  if (!raw) return { slots: [], problems: [`the ${label} array at ${hex(address)} is not in the image`] };
  const slots: NotifySlot[] = [];
  const problems: string[] = [];
  for (const [index, value] of raw.entries()) {
    const slot = readSlot(memory, value);
    const slotVa = address + BigInt(index * memory.pointerSize);
    if (typeof slot === 'string') problems.push(`${label} slot ${index} (${hex(slotVa)}): ${slot}`);
    else if (slot.kind === 'routine') slots.push({ index, slotVa, ...slot });
  }
  return { slots, problems };
}
