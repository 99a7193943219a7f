// Drivers from every view merged by object address, and the devices reached from them: each
// driver's NextDevice chain, every scanned device, and each device's AttachedDevice / AttachedTo
// (the device walk, the fourth view of drivers: a device names its driver).

import { hex } from '../../../common/hex';
import type { DriverView } from '../../../common/model';
import type { KernelMemory } from '../../kernel/memory';
import { readDeviceObject } from '../../objects/device';
import type { DirectoryIndex } from '../../objects/directory-index';
import { isPlausibleDriver, readDriverObject } from '../../objects/driver';
import type { LoaderEntry } from '../../kernel/module-list';
import { readObjectHeader, type ObjectTypes } from '../../kernel/object-header';
import type { ObjectPaths } from '../../objects/object-paths';
import type { LayoutProfile } from '../../profile';
import type { DeviceRecord, DriverRecord } from '../records';
import type { DirectoryView } from './directory-view';
import type { PoolView } from './pool-view';
const MAX_DEVICES = 100_000;
const MAX_CHAIN = 4096;
/** No device stack is deeper (the same bound the stack walk of the model uses). */
const MAX_STACK = 64;

export interface ObjectGraph {
  drivers: Map<bigint, DriverRecord>;
  devices: Map<bigint, DeviceRecord>;
  /** Driver objects (ids) that devices name but whose memory the image does not hold. */
  unreadableDrivers: Set<string>;
  /** Devices named by a chain or a stack whose memory the image does not hold. */
  unreadableDevices: number;
  /** The device limit was reached: devices past it were not read. */
  deviceLimitReached: boolean;
  warnings: string[];
}

export interface MergeInputs {
  memory: KernelMemory;
  profile: LayoutProfile;
  types: ObjectTypes;
  directories: DirectoryIndex;
  paths: ObjectPaths;
  directoryView: DirectoryView;
  poolView: PoolView;
  listed: readonly LoaderEntry[];
}

export function mergeDriversAndDevices(inputs: MergeInputs): ObjectGraph {
  const { memory, profile, types, directories, paths, directoryView, poolView } = inputs;
  const graph: ObjectGraph = {
    drivers: new Map(),
    devices: new Map(),
    unreadableDrivers: new Set(),
    unreadableDevices: 0,
    deviceLimitReached: false,
    warnings: [],
  };
  const { drivers, devices } = graph;
  const addDriver = (va: bigint, view: DriverView, pa: number | null, freed: boolean) => {
    const existing = drivers.get(va);
    if (existing) {
      existing.views.add(view);
      return existing;
    }
    const object = readDriverObject(memory, profile, va);
    if (!object || !isPlausibleDriver(object)) return null;
    const translated = memory.virtual.translate(va);
    const record: DriverRecord = {
      va,
      pa: pa ?? (translated.ok ? translated.pa : null),
      object,
      header: readObjectHeader(memory, profile, types, va),
      views: new Set([view]),
      directory: null,
      freed,
    };
    drivers.set(va, record);
    return record;
  };
  for (const [va, directory] of directoryView.drivers) {
    const record = addDriver(va, 'directory', null, false);
    if (record) record.directory = directory;
  }
  for (const found of poolView.drivers) {
    if (found.va === null) continue;
    addDriver(found.va, 'pool-scan', found.pa, found.freed);
  }
  const pending: bigint[] = [];
  const queueDevice = (va: bigint) => {
    if (va === 0n || !memory.isKernelAddress(va) || devices.has(va)) return;
    if (devices.size >= MAX_DEVICES) graph.deviceLimitReached = true;
    else pending.push(va);
  };
  const walkChain = (driver: DriverRecord) => {
    const seen = new Set<bigint>();
    const nextDevice = BigInt(profile.field('_DEVICE_OBJECT', 'NextDevice').offset);
    let device = driver.object.deviceObject;
    while (device !== 0n && !seen.has(device) && seen.size < MAX_CHAIN) {
      seen.add(device);
      queueDevice(device);
      const next = memory.ptr(device + nextDevice);
      if (next === null) break;
      device = next;
    }
    // A chase that ends other than at its end says why (a crafted chain loops or never ends).
    if (device !== 0n && seen.has(device))
      graph.warnings.push(
        `driver object ${hex(driver.va)}: its NextDevice chain loops back to ${hex(device)}`,
      );
    else if (seen.size >= MAX_CHAIN)
      graph.warnings.push(
        `driver object ${hex(driver.va)}: its NextDevice chain was cut off after ${MAX_CHAIN} devices`,
      );
  };
  for (const driver of drivers.values()) if (!driver.freed) walkChain(driver);
  for (const va of poolView.devices) queueDevice(va);
  while (pending.length) {
    const va = pending.pop()!;
    if (devices.has(va)) continue;
    const object = readDeviceObject(memory, profile, va);
    if (!object) {
      if (memory.bytes(va, 1) === null) graph.unreadableDevices++;
      continue;
    }
    if (object.type !== 3) continue;
    const header = readObjectHeader(memory, profile, types, va);
    const path = header ? paths.of(header) : { name: null, status: null };
    const directoryEntry =
      header?.directory !== null && header?.directory !== undefined
        ? directories.entryOf(va, header.directory)
        : null;
    devices.set(va, { va, object, header, name: path.name, nameStatus: path.status, directoryEntry });
    queueDevice(object.attachedDevice);
    if (object.attachedTo !== null) queueDevice(object.attachedTo);
    if (!drivers.has(object.driverObject) && memory.isKernelAddress(object.driverObject)) {
      const driver = addDriver(object.driverObject, 'device-walk', null, false);
      if (driver) walkChain(driver);
      else {
        graph.warnings.push(
          `device ${hex(va)} names a driver object at ${hex(object.driverObject)} that cannot be read as one`,
        );
        if (memory.bytes(object.driverObject, 1) === null)
          graph.unreadableDrivers.add(hex(object.driverObject));
      }
    }
  }
  graph.warnings.push(...stackLoops(devices));
  const listedEntries = new Set(inputs.listed.map((e) => e.entryVa));
  const listedBases = new Set(inputs.listed.map((e) => e.base));
  for (const driver of drivers.values()) {
    const directory = directoryView.unreadable.get(driver.va);
    if (directory !== undefined && !driver.views.has('directory')) {
      driver.views.add('directory');
      driver.directory = directory;
    }
    if (
      listedEntries.has(driver.object.driverSection) ||
      (driver.object.driverStart !== 0n && listedBases.has(driver.object.driverStart))
    ) {
      driver.views.add('module-list');
    }
  }
  return graph;
}

/** Device stacks whose AttachedDevice pointers loop, each loop said once. */
function stackLoops(devices: ReadonlyMap<bigint, DeviceRecord>): string[] {
  const reported = new Set<string>();
  const warnings: string[] = [];
  for (const start of devices.values()) {
    const path: bigint[] = [];
    for (
      let at: DeviceRecord | undefined = start;
      at && path.length < MAX_STACK;
      at = devices.get(at.object.attachedDevice)
    ) {
      const repeat = path.indexOf(at.va);
      if (repeat >= 0) {
        const loop = path.slice(repeat);
        const key = [...loop].sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          warnings.push(
            `device stack loops through AttachedDevice: ${[...loop, at.va].map((va) => hex(va)).join(' → ')}; the stack is shown up to the loop`,
          );
        }
        break;
      }
      path.push(at.va);
    }
  }
  return warnings;
}
