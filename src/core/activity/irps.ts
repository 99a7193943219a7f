// IRPs (wdm.h; spec §1.3 for the major functions): the I/O manager's request packets, found in
// pool ("Irp " blocks) and on threads' IrpLists, checked by what an IRP must be — Type 6, a Size
// that holds its StackCount locations, a current location within bounds and, when the thread's
// pointer to it is set, Tail.Overlay.CurrentStackLocation agreeing with CurrentLocation — and
// read with every stack location in use (the current one and those above it).

import type { KernelMemory } from '../kernel/memory';
import { readStruct, type LayoutProfile } from '../profile';

export interface StackLocationRecord {
  index: number;
  major: number;
  minor: number;
  flags: number;
  control: number;
  device: bigint;
  fileObject: bigint;
  completionRoutine: bigint;
  context: bigint;
  /** Parameters as four pointer-size words (their meaning depends on the major function). */
  parameters: bigint[];
}

export interface IrpRecord {
  va: bigint;
  size: number;
  flags: number;
  stackCount: number;
  currentLocation: number;
  requestorMode: number;
  cancel: boolean;
  pendingReturned: boolean;
  systemBuffer: bigint;
  userBuffer: bigint;
  thread: bigint;
  originalFileObject: bigint;
  /** From the current location up to the top (index StackCount - 1). */
  locations: StackLocationRecord[];
}

const IRP_TYPE = 6;
/** IRP_MJ_MAXIMUM_FUNCTION (spec §1.3). */
const MAX_MAJOR = 0x1b;
/** No device stack is deeper (the I/O manager caps StackSize well below a byte's range). */
const MAX_STACK = 64;

/** The IRP at `va`, or null when it is not one. `room`: bytes the pool block leaves for it. */
export function readIrp(
  memory: KernelMemory,
  profile: LayoutProfile,
  va: bigint,
  room = 0x2000,
): IrpRecord | null {
  const irpSize = profile.sizeOf('_IRP');
  const locationSize = profile.sizeOf('_IO_STACK_LOCATION');
  const head = memory.bytes(va, irpSize);
  if (!head) return null;
  const irp = readStruct(profile, '_IRP', head);
  if (irp.number('Type') !== IRP_TYPE) return null;
  const size = irp.number('Size');
  const stackCount = irp.number('StackCount');
  const currentLocation = irp.number('CurrentLocation');
  if (stackCount < 1 || stackCount > MAX_STACK) return null;
  if (size < irpSize + stackCount * locationSize || size > room) return null;
  if (currentLocation < 1 || currentLocation > stackCount + 1) return null;
  const thread = irp.pointer('Tail', 4);
  const current = irp.pointer('Tail', 8);
  const expected = va + BigInt(irpSize + (currentLocation - 1) * locationSize);
  if (currentLocation <= stackCount && current !== 0n && current !== expected) return null;
  if (thread !== 0n && !memory.isKernelAddress(thread)) return null;
  const bytes = memory.bytes(va + BigInt(irpSize), stackCount * locationSize);
  if (!bytes) return null;
  const locations: StackLocationRecord[] = [];
  for (let index = currentLocation - 1; index < stackCount; index++) {
    const s = readStruct(profile, '_IO_STACK_LOCATION', bytes, index * locationSize);
    const major = s.number('MajorFunction');
    const device = s.pointer('DeviceObject');
    if (major > MAX_MAJOR) return null;
    if (device !== 0n && !memory.isKernelAddress(device)) return null;
    locations.push({
      index,
      major,
      minor: s.number('MinorFunction'),
      flags: s.number('Flags'),
      control: s.number('Control'),
      device,
      fileObject: s.pointer('FileObject'),
      completionRoutine: s.pointer('CompletionRoutine'),
      context: s.pointer('Context'),
      parameters: [0, 1, 2, 3].map((i) => s.pointer('Parameters', i)),
    });
  }
  // A request in flight has reached a device: the current location names one.
  if (currentLocation <= stackCount && locations[0]!.device === 0n) return null;
  return {
    va,
    size,
    flags: irp.number('Flags'),
    stackCount,
    currentLocation,
    requestorMode: irp.number('RequestorMode'),
    cancel: irp.number('Cancel') !== 0,
    pendingReturned: irp.number('PendingReturned') !== 0,
    systemBuffer: irp.pointer('AssociatedIrp'),
    userBuffer: irp.pointer('UserBuffer'),
    thread,
    originalFileObject: irp.pointer('Tail', 9),
    locations,
  };
}

/** A FILE_OBJECT's device and name (Type 5); null when `va` holds none. */
export function readFileObject(
  memory: KernelMemory,
  profile: LayoutProfile,
  va: bigint,
): { device: bigint; name: string | null } | null {
  const name = profile.field('_FILE_OBJECT', 'FileName');
  const bytes = memory.bytes(va, name.offset + name.size);
  if (!bytes) return null;
  const reader = readStruct(profile, '_FILE_OBJECT', bytes);
  if (reader.number('Type') !== 5) return null;
  const value = reader.unicodeString('FileName');
  if (value.length === 0) return { device: reader.pointer('DeviceObject'), name: '' };
  const text = memory.unicodeString(value);
  return { device: reader.pointer('DeviceObject'), name: 'text' in text ? text.text : null };
}
