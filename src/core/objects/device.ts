// DEVICE_OBJECT and its DEVOBJ_EXTENSION (spec §1.6, §1.7, §4.4).

import { readStruct, type LayoutProfile } from '../profile';
import type { KernelMemory } from '../kernel/memory';

export interface DeviceObject {
  va: bigint;
  type: number;
  size: number;
  referenceCount: number;
  driverObject: bigint;
  nextDevice: bigint;
  attachedDevice: bigint;
  flags: number;
  characteristics: number;
  deviceType: number;
  stackSize: number;
  deviceExtension: bigint;
  deviceObjectExtension: bigint;
  /** DEVOBJ_EXTENSION.AttachedTo, or null when the extension is unreadable. */
  attachedTo: bigint | null;
  problems: string[];
}

export function readDeviceObject(
  memory: KernelMemory,
  profile: LayoutProfile,
  va: bigint,
): DeviceObject | null {
  const size = profile.sizeOf('_DEVICE_OBJECT');
  const bytes = memory.bytes(va, size);
  if (!bytes) return null;
  const d = readStruct(profile, '_DEVICE_OBJECT', bytes);
  const problems: string[] = [];
  const type = d.number('Type');
  const objectSize = d.number('Size');
  if (type !== 3) problems.push(`Type is ${type}, not IO_TYPE_DEVICE (3)`);
  if (objectSize < size) problems.push(`Size 0x${objectSize.toString(16)} is below sizeof(DEVICE_OBJECT)`);
  const extension = d.pointer('DeviceObjectExtension');
  let attachedTo: bigint | null = null;
  if (memory.isKernelAddress(extension)) {
    const extBytes = memory.bytes(extension, profile.sizeOf('_DEVOBJ_EXTENSION'));
    if (extBytes) {
      const x = readStruct(profile, '_DEVOBJ_EXTENSION', extBytes);
      if (x.pointer('DeviceObject') !== va)
        problems.push('DeviceObjectExtension->DeviceObject does not point back');
      attachedTo = x.pointer('AttachedTo');
    }
  } else {
    problems.push('DeviceObjectExtension is not a kernel pointer');
  }
  return {
    va,
    type,
    size: objectSize,
    referenceCount: d.number('ReferenceCount'),
    driverObject: d.pointer('DriverObject'),
    nextDevice: d.pointer('NextDevice'),
    attachedDevice: d.pointer('AttachedDevice'),
    flags: d.number('Flags'),
    characteristics: d.number('Characteristics'),
    deviceType: d.number('DeviceType'),
    stackSize: d.number('StackSize'),
    deviceExtension: d.pointer('DeviceExtension'),
    deviceObjectExtension: extension,
    attachedTo,
    problems,
  };
}
