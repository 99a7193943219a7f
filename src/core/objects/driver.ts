// DRIVER_OBJECT and DRIVER_EXTENSION (spec §1.2, §1.4, §1.5), read and validated as §4.3
// recommends. Every pointer is reported as found; judging it is the analysis layer's job.

import { FAST_IO_NAMES, IRP_MJ_COUNT } from '../../common/windows';
import { readStruct, type LayoutProfile } from '../profile';
import type { KernelMemory, ReadStatus } from '../kernel/memory';

export interface DriverObject {
  va: bigint;
  type: number;
  size: number;
  deviceObject: bigint;
  flags: number;
  driverStart: bigint;
  driverSize: number;
  driverSection: bigint;
  driverExtension: bigint;
  driverName: { text: string } | { status: ReadStatus };
  serviceKey: { text: string } | { status: ReadStatus } | null;
  fastIoDispatch: bigint;
  fastIo: Array<{ index: number; name: string; address: bigint }>;
  driverInit: bigint;
  driverStartIo: bigint;
  driverUnload: bigint;
  majorFunction: bigint[];
  /** Why it does not look like a driver object; empty when it does (§4.3). */
  problems: DriverObjectProblem[];
}

/** What is wrong with a DRIVER_OBJECT, with its facts (prose is for whoever shows it). */
export type DriverObjectProblem =
  | { code: 'wrong-type'; type: number }
  | { code: 'wrong-size'; size: number; expected: number }
  | { code: 'extension-not-back' }
  | { code: 'extension-unreadable' }
  | { code: 'extension-not-kernel' }
  | { code: 'no-image' }
  | { code: 'start-unaligned' }
  | { code: 'major-function-not-kernel' };

/** The problems that mean the bytes are not a driver object at all (the others are damage). */
const DISQUALIFYING = new Set<DriverObjectProblem['code']>([
  'wrong-type',
  'wrong-size',
  'major-function-not-kernel',
]);

const DRVO_BUILTIN_DRIVER = 0x4;

/** Reads the DRIVER_OBJECT at `va`; null when its bytes cannot be read at all. */
export function readDriverObject(
  memory: KernelMemory,
  profile: LayoutProfile,
  va: bigint,
): DriverObject | null {
  const size = profile.sizeOf('_DRIVER_OBJECT');
  const bytes = memory.bytes(va, size);
  if (!bytes) return null;
  const d = readStruct(profile, '_DRIVER_OBJECT', bytes);
  const problems: DriverObjectProblem[] = [];
  const type = d.number('Type');
  const objectSize = d.number('Size');
  if (type !== 4) problems.push({ code: 'wrong-type', type });
  if (objectSize !== size) problems.push({ code: 'wrong-size', size: objectSize, expected: size });
  const driverExtension = d.pointer('DriverExtension');
  let serviceKey: DriverObject['serviceKey'] = null;
  if (driverExtension !== 0n && memory.isKernelAddress(driverExtension)) {
    const extBytes = memory.bytes(driverExtension, profile.sizeOf('_DRIVER_EXTENSION'));
    if (extBytes) {
      const e = readStruct(profile, '_DRIVER_EXTENSION', extBytes);
      if (e.pointer('DriverObject') !== va) problems.push({ code: 'extension-not-back' });
      serviceKey = memory.unicodeString(e.unicodeString('ServiceKeyName'));
    } else {
      problems.push({ code: 'extension-unreadable' });
    }
  } else {
    problems.push({ code: 'extension-not-kernel' });
  }
  const flags = d.number('Flags');
  const driverStart = d.pointer('DriverStart');
  const driverSize = d.number('DriverSize');
  if (driverStart === 0n && driverSize === 0 && !(flags & DRVO_BUILTIN_DRIVER))
    problems.push({ code: 'no-image' });
  if (driverStart !== 0n && (driverStart & 0xfffn) !== 0n) problems.push({ code: 'start-unaligned' });
  const majorFunction: bigint[] = [];
  for (let i = 0; i < IRP_MJ_COUNT; i++) majorFunction.push(d.pointer('MajorFunction', i));
  if (majorFunction.some((a) => !memory.isKernelAddress(a)))
    problems.push({ code: 'major-function-not-kernel' });
  const fastIoDispatch = d.pointer('FastIoDispatch');
  return {
    va,
    type,
    size: objectSize,
    deviceObject: d.pointer('DeviceObject'),
    flags,
    driverStart,
    driverSize,
    driverSection: d.pointer('DriverSection'),
    driverExtension,
    driverName: memory.unicodeString(d.unicodeString('DriverName')),
    serviceKey,
    fastIoDispatch,
    fastIo:
      fastIoDispatch !== 0n && memory.isKernelAddress(fastIoDispatch)
        ? readFastIo(memory, profile, fastIoDispatch)
        : [],
    driverInit: d.pointer('DriverInit'),
    driverStartIo: d.pointer('DriverStartIo'),
    driverUnload: d.pointer('DriverUnload'),
    majorFunction,
    problems,
  };
}

/** Non-null FAST_IO_DISPATCH entries, bounded by SizeOfFastIoDispatch (§1.5). */
function readFastIo(memory: KernelMemory, profile: LayoutProfile, va: bigint): DriverObject['fastIo'] {
  const size = profile.sizeOf('_FAST_IO_DISPATCH');
  const bytes = memory.bytes(va, size);
  if (!bytes) return [];
  const declared = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const ptr = profile.pointerSize;
  const count = Math.min(
    FAST_IO_NAMES.length,
    Math.max(0, Math.floor((Math.min(declared, size) - ptr) / ptr)),
  );
  const out: DriverObject['fastIo'] = [];
  for (let i = 0; i < count; i++) {
    const at = (i + 1) * ptr;
    if (at + ptr > bytes.length) break;
    const address =
      ptr === 8
        ? new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(at, true)
        : BigInt(new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true));
    if (address !== 0n) out.push({ index: i, name: FAST_IO_NAMES[i]!, address });
  }
  return out;
}

export function isPlausibleDriver(driver: DriverObject): boolean {
  return driver.type === 4 && !driver.problems.some((p) => DISQUALIFYING.has(p.code));
}
