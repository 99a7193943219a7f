// Locating and reading the process, thread and image-load notify arrays. Routes, in order: the
// symbol file's address of the array; the code of the exported registration routines (see
// code-route.ts). A candidate is the array only when it reads as one: every slot empty or a fast
// reference to a readable block whose Function is a kernel address.

import { hex } from '../../common/hex';
import type { KernelMemory } from '../kernel/memory';
import type { PeImage } from '../kernel/pe';
import type { LayoutProfile } from '../profile';
import { dataReferences } from './code-route';
import { fastRefMask, notifySlots, type NotifyArrayKind } from './kinds';

export interface ArrayLocation {
  address: bigint;
  /** How it was found: "symbol file", "PsSetCreateThreadNotifyRoutine+0x4: lea rcx,[…]". */
  method: string;
  slots: number;
}

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
function rejectArray(memory: KernelMemory, address: bigint, slots: number): string | null {
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

function usedSlots(memory: KernelMemory, address: bigint, slots: number): number {
  return (readRawSlots(memory, address, slots) ?? []).filter((v) => v !== 0n).length;
}

/** The array, and (when not found) why each route failed. */
export function locateNotifyArray(
  memory: KernelMemory,
  pe: PeImage,
  exports: ReadonlyMap<string, number>,
  profile: LayoutProfile | null,
  build: number | null,
  kind: NotifyArrayKind,
): { found: ArrayLocation | null; tried: string[] } {
  const slots = notifySlots(build);
  const tried: string[] = [];
  const symbol = profile?.symbol(kind.symbol);
  if (symbol !== undefined) {
    const address = pe.base + BigInt(symbol);
    const rejected = rejectArray(memory, address, slots);
    if (rejected === null) return { found: { address, method: `symbol file: ${kind.symbol}`, slots }, tried };
    tried.push(`symbol file: ${rejected}`);
  }
  const fromCode = fromRegistrationCode(memory, pe, exports, kind, slots, tried);
  return { found: fromCode, tried };
}

function fromRegistrationCode(
  memory: KernelMemory,
  pe: PeImage,
  exports: ReadonlyMap<string, number>,
  kind: NotifyArrayKind,
  slots: number,
  tried: string[],
): ArrayLocation | null {
  const valid: ArrayLocation[] = [];
  for (const name of kind.registrations) {
    const rva = exports.get(name);
    if (rva === undefined) {
      tried.push(`${name} is not exported`);
      continue;
    }
    const references = dataReferences(memory, pe, pe.base + BigInt(rva), name);
    let rejections = 0;
    for (const reference of references) {
      const rejected = rejectArray(memory, reference.address, slots);
      if (rejected === null) valid.push({ address: reference.address, method: reference.where, slots });
      else rejections++;
    }
    if (valid.length > 0) break;
    tried.push(
      references.length === 0
        ? `${name}'s code loads no address in the kernel's data`
        : `none of the ${rejections} data addresses ${name}'s code loads reads as a notify array`,
    );
  }
  // An empty array reads as one as well as any zeroed data: prefer one that holds a routine.
  return valid.find((v) => usedSlots(memory, v.address, slots) > 0) ?? valid[0] ?? null;
}

/** Every used slot; a slot whose reference cannot be followed is a problem, not a routine. */
export function readNotifyArray(memory: KernelMemory, location: ArrayLocation, label: string): ArrayReading {
  const raw = readRawSlots(memory, location.address, location.slots);
  if (!raw)
    return { slots: [], problems: [`the ${label} array at ${hex(location.address)} is not in the image`] };
  const slots: NotifySlot[] = [];
  const problems: string[] = [];
  for (const [index, value] of raw.entries()) {
    const slot = readSlot(memory, value);
    const slotVa = location.address + BigInt(index * memory.pointerSize);
    if (typeof slot === 'string') problems.push(`${label} slot ${index} (${hex(slotVa)}): ${slot}`);
    else if (slot.kind === 'routine') slots.push({ index, slotVa, ...slot });
  }
  return { slots, problems };
}
