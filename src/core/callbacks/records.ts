// One record of a callback list read: its routine (for a shutdown packet, the IRP_MJ_SHUTDOWN
// handler of its device's driver, as the result has judged that driver), context, component name,
// device and driver, from the offsets of the record's kind (kinds.ts).

import { hex } from '../../common/hex';
import type { Device, Driver } from '../../common/model';
import type { KernelMemory } from '../kernel/memory';
import type { RecordField } from './kinds';

const IRP_MJ_SHUTDOWN = 0x10;
/** Component names are short ASCII words ("Ndis", "storport"): longer is not one. */
const MAX_COMPONENT = 64;

export interface RawCallback {
  slot: number;
  entry: bigint;
  block: bigint | null;
  routine: bigint;
  context: bigint | null;
  component: string | null;
  device: bigint | null;
  driver: bigint | null;
}

/** The NUL-terminated ASCII text at `va`, or null when it is not in the image or not text. */
function asciiAt(memory: KernelMemory, va: bigint): string | null {
  const bytes = memory.virtual.readPartial(va, MAX_COMPONENT).bytes;
  const end = bytes.indexOf(0);
  if (end <= 0) return null;
  const text = bytes.subarray(0, end);
  return text.every((b) => b >= 0x20 && b < 0x7f) ? String.fromCharCode(...text) : null;
}

function shutdownRoutine(
  device: bigint,
  devices: readonly Device[],
  drivers: readonly Driver[],
): { routine: bigint; driver: bigint } | string {
  const known = devices.find((d) => BigInt(d.objectVa) === device);
  if (!known) return `its device ${hex(device)} is not among the devices found`;
  const driver = drivers.find((d) => d.id === known.driver);
  const handler = driver?.irp.find((h) => h.index === IRP_MJ_SHUTDOWN);
  if (!driver || !handler) return `the driver of its device ${hex(device)} was not read`;
  return { routine: BigInt(handler.address), driver: BigInt(driver.objectVa) };
}

export function readRecord(
  memory: KernelMemory,
  record: bigint,
  index: number,
  fields: Partial<Record<RecordField, number>>,
  devices: readonly Device[],
  drivers: readonly Driver[],
): RawCallback | string {
  const at = (field: RecordField) => (fields[field] === undefined ? null : record + BigInt(fields[field]));
  const read = (field: RecordField) => {
    const va = at(field);
    return va === null ? null : memory.ptr(va);
  };
  const device = read('device');
  let routine = read('routine');
  let driver = read('driver');
  if (fields.device !== undefined) {
    if (device === null) return 'its DeviceObject is not in the image';
    const found = shutdownRoutine(device, devices, drivers);
    if (typeof found === 'string') return found;
    routine = found.routine;
    driver = found.driver;
  }
  if (routine === null) return 'its routine is not in the image';
  if (!memory.isKernelAddress(routine)) return `its routine ${hex(routine)} is not a kernel address`;
  const componentVa = read('component');
  return {
    slot: index,
    entry: record,
    block: null,
    routine,
    context: read('context'),
    component: componentVa === null || componentVa === 0n ? null : asciiAt(memory, componentVa),
    device,
    driver,
  };
}
