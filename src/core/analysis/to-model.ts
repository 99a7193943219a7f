// Driver and device records → the result model: names, handler verdicts, stacks, links.

import { hex } from '../../common/hex';
import type { Device, Driver, Handler, SymbolicLink } from '../../common/model';
import {
  DO_FLAGS,
  DRVO_FLAGS,
  FILE_CHARACTERISTICS,
  IRP_MJ_NAMES,
  deviceTypeName,
  flagNames,
} from '../../common/windows';
import { describeStringFailure } from '../kernel/memory';
import type { ObjectPaths } from '../objects/object-paths';
import { nameText } from '../kernel/object-header';
import type { createHandlerJudge } from '../verdicts/handlers';
import type { ModuleSet } from '../verdicts/module-set';
import type { DeviceRecord, DriverRecord } from './records';

export function toDriver(
  record: DriverRecord,
  modules: ModuleSet,
  judge: ReturnType<typeof createHandlerJudge>,
  paths: ObjectPaths,
  /** The devices whose DriverObject is this driver's (devicesByDriver). */
  devices: readonly DeviceRecord[],
  /** PsLoadedModuleList was read completely: a driver's image in no module is then not trusted. */
  moduleListComplete: boolean,
): Driver {
  const object = record.object;
  const own = object.driverStart !== 0n ? modules.owner(object.driverStart) : null;
  const declared =
    own === null && !moduleListComplete && object.driverStart !== 0n && object.driverSize > 0
      ? { base: object.driverStart, size: object.driverSize }
      : undefined;
  const live = !record.freed;
  const handlers = (entries: Array<[number, string, bigint]>): Handler[] =>
    entries.map(([index, name, address]) => judge.judge(address, own, index, name, false, declared));
  const directory = record.directory ?? paths.directoryOf(record.header);
  const objectName = record.header ? nameText(record.header.name) : null;
  const driverName = 'text' in object.driverName ? object.driverName.text : null;
  return {
    id: hex(record.va),
    name: driverName ?? (directory && objectName ? `${directory}\\${objectName}` : null),
    nameStatus:
      driverName === null && 'status' in object.driverName
        ? `DriverName ${describeStringFailure(object.driverName)}`
        : null,
    objectName,
    directory,
    serviceKey: object.serviceKey && 'text' in object.serviceKey ? object.serviceKey.text : null,
    objectVa: hex(record.va),
    objectPa: record.pa === null ? null : hex(record.pa),
    start: hex(object.driverStart),
    size: object.driverSize,
    module: own?.name ?? null,
    flags: object.flags,
    flagNames: flagNames(object.flags, DRVO_FLAGS),
    foundBy: [...record.views].sort(),
    state: live ? 'live' : 'freed',
    devices: live ? devices.map((d) => hex(d.va)) : [],
    irp: live
      ? handlers(object.majorFunction.map((address, index) => [index, IRP_MJ_NAMES[index]!, address]))
      : [],
    fastIo: live ? handlers(object.fastIo.map((f) => [f.index, f.name, f.address])) : [],
    callbacks: live
      ? handlers(
          (
            [
              [0, 'DriverInit', object.driverInit],
              [1, 'DriverStartIo', object.driverStartIo],
              [2, 'DriverUnload', object.driverUnload],
            ] as Array<[number, string, bigint]>
          ).filter(([, , a]) => a !== 0n),
        )
      : [],
    fastIoDispatch: object.fastIoDispatch === 0n ? null : hex(object.fastIoDispatch),
  };
}

export function toDevice(
  record: DeviceRecord,
  drivers: Map<bigint, DriverRecord>,
  devices: Map<bigint, DeviceRecord>,
  /** Link names by their target's name in lower case (linksByTarget). */
  links: ReadonlyMap<string, string[]>,
): Device {
  const object = record.object;
  const driver = drivers.get(object.driverObject);
  const driverName = driver
    ? 'text' in driver.object.driverName
      ? driver.object.driverName.text
      : null
    : null;
  // The whole stack, bottom first: down through AttachedTo, then up through AttachedDevice.
  let bottom = record;
  for (let guard = 0; guard < 64; guard++) {
    const below = bottom.object.attachedTo ? devices.get(bottom.object.attachedTo) : undefined;
    if (!below) break;
    bottom = below;
  }
  const stack: string[] = [];
  for (
    let at: DeviceRecord | undefined = bottom, guard = 0;
    at && guard < 64;
    at = devices.get(at.object.attachedDevice), guard++
  ) {
    if (stack.includes(hex(at.va))) break;
    stack.push(hex(at.va));
  }
  const entry = record.directoryEntry;
  return {
    id: hex(record.va),
    name: record.name,
    nameStatus: record.nameStatus,
    inferredName: null,
    nameHash: entry ? { bucket: entry.bucket, value: entry.hash } : null,
    objectVa: hex(record.va),
    objectPa: null,
    driver: hex(object.driverObject),
    driverName,
    type: object.deviceType,
    typeName: deviceTypeName(object.deviceType),
    flags: object.flags,
    flagNames: flagNames(object.flags, DO_FLAGS),
    characteristics: object.characteristics,
    characteristicNames: flagNames(object.characteristics, FILE_CHARACTERISTICS),
    attachedDevice: object.attachedDevice === 0n ? null : hex(object.attachedDevice),
    attachedTo: object.attachedTo === null || object.attachedTo === 0n ? null : hex(object.attachedTo),
    stack,
    links: record.name === null ? [] : [...(links.get(record.name.toLowerCase()) ?? [])],
  };
}

/** Each driver object's devices, in the order the graph holds them. */
export function devicesByDriver(devices: Iterable<DeviceRecord>): Map<bigint, DeviceRecord[]> {
  const byDriver = new Map<bigint, DeviceRecord[]>();
  for (const device of devices) {
    const list = byDriver.get(device.object.driverObject);
    if (list) list.push(device);
    else byDriver.set(device.object.driverObject, [device]);
  }
  return byDriver;
}

/** Symbolic links' names by their target (lower case: object names compare case-insensitively). */
export function linksByTarget(links: readonly SymbolicLink[]): Map<string, string[]> {
  const byTarget = new Map<string, string[]>();
  for (const link of links) {
    if (link.name === null || !link.target) continue;
    const key = link.target.toLowerCase();
    const list = byTarget.get(key);
    if (list) list.push(link.name);
    else byTarget.set(key, [link.name]);
  }
  return byTarget;
}
