// Processes, threads and IRPs in the result model, linked to what the rest of the analysis
// found: each stack location to its device and driver, each completion routine judged against
// the driver that set it, each IRP to its thread and process.

import { hex, type Hex } from '../../common/hex';
import { IRP_MJ, IRP_MJ_NAMES } from '../../common/windows';
import type { Irp, IrpStackLocation, Process, Thread } from '../../common/model';
import { readFileObject, type ActivityRecords, type StackLocationRecord } from '../activity';
import type { KernelMemory } from '../kernel/memory';
import type { LayoutProfile } from '../profile';
import type { HandlerJudge } from '../verdicts/handlers';
import type { ModuleSet } from '../verdicts/module-set';
import type { DeviceRecord, DriverRecord } from './records';
import { compareText } from '../../common/text-order';
const orNull = (value: bigint) => (value === 0n ? null : hex(value));

/** IRP.Flags bits (wdm.h). 0x40 is IRP_INPUT_OPERATION (IRP_SYNCHRONOUS_PAGING_IO on paging requests). */
const IRP_FLAGS: Array<[number, string]> = [
  [0x1, 'IRP_NOCACHE'],
  [0x2, 'IRP_PAGING_IO'],
  [0x4, 'IRP_SYNCHRONOUS_API'],
  [0x8, 'IRP_ASSOCIATED_IRP'],
  [0x10, 'IRP_BUFFERED_IO'],
  [0x20, 'IRP_DEALLOCATE_BUFFER'],
  [0x40, 'IRP_INPUT_OPERATION'],
  [0x80, 'IRP_CREATE_OPERATION'],
  [0x100, 'IRP_READ_OPERATION'],
  [0x200, 'IRP_WRITE_OPERATION'],
  [0x400, 'IRP_CLOSE_OPERATION'],
  [0x800, 'IRP_DEFER_IO_COMPLETION'],
  [0x1000, 'IRP_OB_QUERY_NAME'],
  [0x2000, 'IRP_HOLD_DEVICE_QUEUE'],
];

export interface ActivityLinks {
  memory: KernelMemory;
  profile: LayoutProfile;
  modules: ModuleSet;
  judge: HandlerJudge;
  devices: ReadonlyMap<bigint, DeviceRecord>;
  drivers: ReadonlyMap<bigint, DriverRecord>;
}

export function activityToModel(
  records: ActivityRecords,
  links: ActivityLinks,
): { processes: Process[]; threads: Thread[]; irps: Irp[] } {
  const { modules } = links;
  const processByVa = new Map(records.processes.map((p) => [p.va, p]));
  const threadByVa = new Map(records.threads.map((t) => [t.va, t]));
  const irpsOfThread = new Map<bigint, Hex[]>();
  for (const irp of records.irps)
    if (irp.thread !== 0n && threadByVa.has(irp.thread)) listOf(irpsOfThread, irp.thread).push(hex(irp.va));
  const threadsOfProcess = new Map<bigint, Hex[]>();
  for (const thread of records.threads) listOf(threadsOfProcess, thread.process).push(hex(thread.va));

  const processes: Process[] = records.processes
    .map((p) => ({
      objectVa: hex(p.va),
      name: p.name,
      pid: p.pid,
      parentPid: p.parentPid,
      dtb: hex(p.dtb),
      foundBy: [
        ...(p.onList ? (['process-list'] as const) : []),
        ...(p.scanned ? (['pool-scan'] as const) : []),
      ],
      hidden: records.processListComplete && !p.onList && p.scanned,
      threads: threadsOfProcess.get(p.va) ?? [],
    }))
    .sort((a, b) => a.pid - b.pid || compareText(a.objectVa, b.objectVa));

  const threads: Thread[] = records.threads
    .map((t) => {
      const owner = modules.owner(t.startAddress);
      return {
        objectVa: hex(t.va),
        tid: t.tid,
        pid: t.pid,
        process: hex(t.process),
        startAddress: hex(t.startAddress),
        startModule: owner ? `${owner.name}+${hex(t.startAddress - owner.base)}` : null,
        win32StartAddress: hex(t.win32StartAddress),
        irps: irpsOfThread.get(t.va) ?? [],
      };
    })
    .sort((a, b) => a.pid - b.pid || a.tid - b.tid);

  const irps: Irp[] = records.irps
    .map((irp) => {
      const thread = threadByVa.get(irp.thread) ?? null;
      const process = thread ? (processByVa.get(thread.process) ?? null) : null;
      const stack = irp.locations.map((location, i) =>
        toLocation(location, irp.locations[i + 1] ?? null, irp.currentLocation, links),
      );
      const current = stack.find((s) => s.current) ?? null;
      const fileObjectVa = irp.originalFileObject || irp.locations[0]?.fileObject || 0n;
      const file = fileObjectVa ? readFileObject(links.memory, links.profile, fileObjectVa) : null;
      const top = stack[stack.length - 1];
      const major = current?.major ?? top?.major ?? 0;
      return {
        address: hex(irp.va),
        foundBy: [...irp.foundBy].sort(),
        size: irp.size,
        stackCount: irp.stackCount,
        currentLocation: irp.currentLocation,
        flags: irp.flags,
        flagNames: IRP_FLAGS.filter(([bit]) => irp.flags & bit).map(([, name]) => name),
        requestorMode: irp.requestorMode === 0 ? ('kernel' as const) : ('user' as const),
        cancel: irp.cancel,
        systemBuffer: orNull(irp.systemBuffer),
        userBuffer: orNull(irp.userBuffer),
        thread: orNull(irp.thread),
        tid: thread?.tid ?? null,
        pid: thread?.pid ?? null,
        processName: process?.name ?? null,
        fileObject: file ? hex(fileObjectVa) : null,
        fileName: file?.name ?? null,
        fileDevice: file ? orNull(file.device) : null,
        major,
        majorName: IRP_MJ_NAMES[major] ?? `0x${major.toString(16)}`,
        device: current?.device ?? null,
        driver: current?.driver ?? null,
        stack: stack.reverse(),
      };
    })
    .sort(
      (a, b) =>
        (a.pid ?? -1) - (b.pid ?? -1) || (a.tid ?? -1) - (b.tid ?? -1) || compareText(a.address, b.address),
    );
  return { processes, threads, irps };
}

function listOf<K, V>(map: Map<K, V[]>, key: K): V[] {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  return list;
}

function toLocation(
  location: StackLocationRecord,
  above: StackLocationRecord | null,
  currentLocation: number,
  links: ActivityLinks,
): IrpStackLocation {
  const device = links.devices.get(location.device) ?? null;
  const driverVa = device?.object.driverObject ?? null;
  const driver = driverVa === null ? null : (links.drivers.get(driverVa) ?? null);
  let completion: IrpStackLocation['completion'] = null;
  let completionSetBy: bigint | null = null;
  if (location.completionRoutine !== 0n) {
    // IoSetCompletionRoutine writes the next-lower location: the driver above set it.
    const setter = above ? (links.devices.get(above.device)?.object.driverObject ?? null) : null;
    const setterRecord = setter === null ? null : (links.drivers.get(setter) ?? null);
    const own = setterRecord ? links.modules.owner(setterRecord.object.driverStart) : null;
    const declared = setterRecord
      ? { base: setterRecord.object.driverStart, size: setterRecord.object.driverSize }
      : undefined;
    completion = links.judge.judge(
      location.completionRoutine,
      own,
      location.index,
      'CompletionRoutine',
      false,
      declared,
    );
    completionSetBy = setter;
  }
  return {
    index: location.index,
    current: location.index === currentLocation - 1,
    major: location.major,
    majorName: IRP_MJ_NAMES[location.major] ?? `0x${location.major.toString(16)}`,
    minor: location.minor,
    control: location.control,
    device: orNull(location.device),
    deviceName: device?.name ?? null,
    driver: driverVa === null ? null : hex(driverVa),
    driverName: driver && 'text' in driver.object.driverName ? driver.object.driverName.text : null,
    fileObject: orNull(location.fileObject),
    parameters: describeParameters(location),
    completion,
    completionSetBy: completionSetBy === null ? null : hex(completionSetBy),
  };
}

function describeParameters(location: StackLocationRecord): string | null {
  const [first, second, third] = location.parameters.map((w) => Number(w & 0xffffffffn));
  switch (location.major) {
    case IRP_MJ.IRP_MJ_READ:
    case IRP_MJ.IRP_MJ_WRITE:
      return `Length ${hex(first!)}, ByteOffset ${hex(location.parameters[2]!)}`;
    case IRP_MJ.IRP_MJ_DEVICE_CONTROL:
    case IRP_MJ.IRP_MJ_INTERNAL_DEVICE_CONTROL:
      return `IoControlCode ${hex(third!)}, InputBufferLength ${hex(second!)}, OutputBufferLength ${hex(first!)}`;
    case IRP_MJ.IRP_MJ_FILE_SYSTEM_CONTROL:
      return location.minor === 0 || location.minor === 3
        ? `FsControlCode ${hex(third!)}, InputBufferLength ${hex(second!)}, OutputBufferLength ${hex(first!)}`
        : null;
    default:
      return null;
  }
}
