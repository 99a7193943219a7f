// What the system is doing at the moment of capture: each process's threads (ETHREAD on
// EPROCESS.ThreadListHead) and the I/O requests still pending (IRPs in nonpaged pool, each on
// its issuing thread's IrpList), as the I/O manager builds them: sized for the top device's
// StackSize, one stack location per device the request has passed, the current one where it
// waits. The classic case is the raw-input thread's READ waiting in the keyboard class driver;
// with a keylogger's filter on top of that stack, the filter's completion routine sits in the
// class driver's location (IoSetCompletionRoutine writes the next-lower location).

import { ByteWriter, utf16le } from '../bytes';
import { field, hasField, sizeOf, type KernelLayout } from '../layout/kernel-layout';
import type { VirtualMemory } from '../memory/virtual';
import type { Rng } from '../rng';
import { IRP_MJ } from '../../common/windows';
import { stackSize, type DeviceModel, type DriverContext, type DriverSet } from './drivers';
import type { LoadedModule } from './modules';
import type { ProcessModel } from './processes';
import { plantPoolCode, type Rootkit } from './rootkit';

export interface ThreadModel {
  process: ProcessModel;
  tid: number;
  ethreadVa: bigint;
  startAddress: bigint;
  win32StartAddress: bigint;
  irps: IrpModel[];
  /** Started by the rootkit in pool code (orphanThread). */
  planted: boolean;
}

export interface StackLocationModel {
  index: number;
  major: number;
  minor: number;
  control: number;
  device: DeviceModel;
  fileObjectVa: bigint;
  completionRoutine: bigint;
  context: bigint;
}

export interface IrpModel {
  va: bigint;
  thread: ThreadModel;
  major: number;
  stackCount: number;
  currentLocation: number;
  /** Bytes the allocation was sized for (IRP.Size): lookaside IRPs carry spare locations. */
  size: number;
  flags: number;
  requestorMode: 0 | 1;
  locations: StackLocationModel[];
  /** The device the request was opened on (the FILE_OBJECT's DeviceObject). */
  target: DeviceModel;
  fileObjectVa: bigint;
  fileName: string;
  /** The device whose location is current: where the request waits. */
  pendingOn: DeviceModel;
}

const THREAD_OBJECT = 6;
const FILE_OBJECT_TYPE = 5;
const IRP_TYPE = 6;
const SL_PENDING_RETURNED = 0x01;
const SL_INVOKE_ALL = 0xe0;
/** IRP flags (wdm.h): buffered I/O with a system buffer the I/O manager frees, input/read. */
const IRP_BUFFERED_IO = 0x10;
const IRP_DEALLOCATE_BUFFER = 0x20;
const IRP_INPUT_OPERATION = 0x40;
const IRP_READ_OPERATION = 0x100;
/** The I/O manager's large lookaside IRPs carry this many stack locations (IopLargeIrpStackLocations). */
const LARGE_IRP_LOCATIONS = 8;

interface PlannedRequest {
  process: string;
  device: string;
  major: number;
  minor: number;
  fileName: string;
  requestorMode: 0 | 1;
  flags: number;
  /** Parameters words: Read {Length, Key, ByteOffset}; DeviceIoControl / FsControl {Out, In, Code}. */
  parameters: [number, number, number];
}

/** The raw-input thread's buffered READ that waits in a class driver until a key or move comes. */
function rawInputRead(device: string, length: number): PlannedRequest {
  return {
    process: 'csrss.exe',
    device,
    major: IRP_MJ.IRP_MJ_READ,
    minor: 0,
    fileName: '',
    requestorMode: 0,
    flags: IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER | IRP_INPUT_OPERATION | IRP_READ_OPERATION,
    parameters: [length, 0, 0],
  };
}

/** Requests that wait in any live system: raw input, a named-pipe listen, a socket select. */
const REQUESTS: PlannedRequest[] = [
  rawInputRead('\\Device\\KeyboardClass0', 0x78),
  rawInputRead('\\Device\\PointerClass0', 0xf0),
  {
    process: 'services.exe',
    device: '\\Device\\NamedPipe',
    major: IRP_MJ.IRP_MJ_FILE_SYSTEM_CONTROL,
    minor: 0, // IRP_MN_USER_FS_REQUEST
    fileName: '\\ntsvcs',
    requestorMode: 1,
    flags: 0,
    parameters: [0, 0, 0x110008], // FSCTL_PIPE_LISTEN
  },
  {
    process: 'svchost.exe',
    device: '\\Device\\Afd',
    major: IRP_MJ.IRP_MJ_DEVICE_CONTROL,
    minor: 0,
    fileName: '\\Endpoint',
    requestorMode: 1,
    flags: IRP_BUFFERED_IO | IRP_DEALLOCATE_BUFFER,
    parameters: [0x28, 0x28, 0x12024], // IOCTL_AFD_SELECT
  },
];

/**
 * Where an ETHREAD names its process: KTHREAD.Process (Windows 2003 and later), the APC state's
 * Process (the process the thread runs in; none of these threads is attached elsewhere), and
 * ETHREAD.ThreadsProcess before Vista. All of them, so that any of them leads to the owner.
 */
function processPointerOffsets(layout: KernelLayout): number[] {
  const tcb = field(layout, '_ETHREAD', 'Tcb');
  const offsets: number[] = [];
  if (hasField(layout, '_KTHREAD', 'Process')) offsets.push(tcb + field(layout, '_KTHREAD', 'Process'));
  if (hasField(layout, '_KTHREAD', 'ApcState') && hasField(layout, '_KAPC_STATE', 'Process'))
    offsets.push(tcb + field(layout, '_KTHREAD', 'ApcState') + field(layout, '_KAPC_STATE', 'Process'));
  if (hasField(layout, '_ETHREAD', 'ThreadsProcess'))
    offsets.push(field(layout, '_ETHREAD', 'ThreadsProcess'));
  return offsets;
}

export class Activity {
  readonly threads: ThreadModel[] = [];
  readonly irps: IrpModel[] = [];
  private readonly ptr: 4 | 8;
  private readonly layout: KernelLayout;
  private readonly vm: VirtualMemory;

  constructor(
    private readonly ctx: DriverContext,
    private readonly rng: Rng,
  ) {
    this.layout = ctx.layout;
    this.vm = ctx.vm;
    this.ptr = ctx.layout.pointerSize;
  }

  /** Threads for every process but Idle: system worker threads in System, user threads elsewhere. */
  createThreads(
    processes: ProcessModel[],
    drivers: DriverSet,
    rootkit: Rootkit | null,
    /** A System thread the rootkit started in pool code (orphanThread), or null. */
    orphanStart: bigint | null = null,
  ): void {
    const { kernel, loader } = this.ctx;
    const x64 = this.layout.arch === 'x64';
    const rng = this.rng;
    // User-mode images move every boot (ASLR from Vista; XP's fixed bases still vary by service pack).
    const ntdll = x64
      ? 0x7ff800000000n + BigInt(rng.int(0, 0x3ff)) * 0x10000n
      : BigInt(0x77000000 + rng.int(0, 0xff) * 0x10000);
    const userStart = ntdll + BigInt(0x2000 + rng.int(0, 0xfff) * 0x10);
    let tid = 8 + rng.int(0, 16) * 4;
    const nextTid = () => (tid += 4 * rng.int(1, 40));
    const kernelStarts = [
      'ExpWorkerThread',
      'KeBalanceSetManager',
      'MiModifiedPageWriter',
      'PopIrpWorker',
    ].map((name) => kernel.symbol(name));
    const driverModules = drivers.drivers
      .map((d) => d.module)
      .filter((m): m is LoadedModule => m !== null && !m.external && m !== rootkit?.module);
    for (const process of processes) {
      if (process.pid === 0) continue;
      if (process.pid === 4) {
        for (const start of kernelStarts) this.addThread(process, nextTid(), start, start);
        for (let i = 0; i < 3 && driverModules.length; i++) {
          const start = loader.routine(rng.pick(driverModules), 'WorkerThread');
          this.addThread(process, nextTid(), start, start);
        }
        if (rootkit) {
          // A keylogger flushes its buffer from a system thread of its own.
          const start = loader.routine(rootkit.module, 'LogWriterThread');
          this.addThread(process, nextTid(), start, start);
        }
        if (orphanStart !== null) this.addThread(process, nextTid(), orphanStart, orphanStart, true);
        continue;
      }
      const image = x64
        ? 0x7ff600000000n + BigInt(rng.int(0, 0xfff)) * 0x10000n
        : BigInt(0x00400000 + rng.int(0, 0x7f) * 0x10000);
      const count = process.name === 'Registry' ? 1 : rng.int(2, 5);
      for (let i = 0; i < count; i++)
        this.addThread(process, nextTid(), userStart, image + BigInt(0x1000 + rng.int(0, 0x3fff) * 0x10));
    }
  }

  private addThread(
    process: ProcessModel,
    tid: number,
    startAddress: bigint,
    win32StartAddress: bigint,
    planted = false,
  ): void {
    const object = this.ctx.objects.create({
      type: 'Thread',
      bodySize: sizeOf(this.layout, '_ETHREAD'),
      pool: this.ctx.nonPaged,
    });
    this.threads.push({
      process,
      tid,
      ethreadVa: object.bodyVa,
      startAddress,
      win32StartAddress,
      irps: [],
      planted,
    });
  }

  /**
   * The pending requests whose process and device this system has. With `hijackCompletion` the
   * rootkit has written a completion routine of its own, code in pool, into the location where a
   * raw-input read waits (the mouse's, else the keyboard's): it runs when the read completes and
   * sees the input first, without a filter device or a hooked dispatch table to give it away.
   */
  createRequests(drivers: DriverSet, rootkit: Rootkit | null, hijackCompletion = false): void {
    const devices = new Map<string, DeviceModel>();
    for (const driver of drivers.drivers)
      for (const device of driver.devices) if (device.name && device.object) devices.set(device.name, device);
    const possible = REQUESTS.flatMap((request) => {
      const target = devices.get(request.device);
      const threads = this.threads.filter((t) => t.process.name === request.process);
      return target && threads.length > 0 ? [{ request, target, threads }] : [];
    });
    const hijacked =
      hijackCompletion && rootkit
        ? (possible.filter((p) => p.request.major === IRP_MJ.IRP_MJ_READ).at(-1)?.request ?? null)
        : null;
    for (const { request, target, threads } of possible) {
      const irp = this.createRequest(request, target, this.rng.pick(threads), rootkit, request === hijacked);
      if (request === hijacked)
        rootkit!.planted.push({
          kind: 'completion-hook',
          subject: target.name!,
          severity: 'critical',
          detail: `the pending read IRP at 0x${irp.va.toString(16)} calls code in pool when it completes`,
        });
    }
  }

  private createRequest(
    request: PlannedRequest,
    target: DeviceModel,
    thread: ThreadModel,
    rootkit: Rootkit | null,
    hijack: boolean,
  ): IrpModel {
    const { ctx, layout, rng } = this;
    const { loader } = ctx;
    // IoGetAttachedDevice: the request enters at the top of the target's stack.
    const path: DeviceModel[] = [];
    for (
      let device: DeviceModel | null = target, guard = 0;
      device && guard < 64;
      device = device.attachedDevice, guard++
    )
      path.unshift(device);
    const stackCount = stackSize(path[0]!);
    const locationSize = sizeOf(layout, '_IO_STACK_LOCATION');
    const irpSize = sizeOf(layout, '_IRP');
    const allocated = stackCount <= LARGE_IRP_LOCATIONS && rng.chance(0.5) ? LARGE_IRP_LOCATIONS : stackCount;
    const size = irpSize + allocated * locationSize;
    const block = ctx.nonPaged.allocate('Irp ', size);
    const fileObjectVa = this.writeFileObject(target, request.fileName);
    const locations: StackLocationModel[] = [];
    path.forEach((device, depth) => {
      const index = stackCount - 1 - depth;
      const above = depth > 0 ? path[depth - 1]! : null;
      let completionRoutine = 0n;
      let context = 0n;
      if (above) {
        const module = above.driver.module;
        if (rootkit && above.driver === rootkit.driver) {
          completionRoutine = loader.routine(rootkit.module, 'KeyloggerReadComplete');
          context = rootkit.driver.object!.bodyVa;
        } else if (module && !module.external && rng.chance(0.5)) {
          completionRoutine = loader.routine(module, 'IoCompletion');
          context = above.object!.bodyVa;
        }
      }
      locations.push({
        index,
        major: request.major,
        minor: request.minor,
        control: (completionRoutine ? SL_INVOKE_ALL : 0) | (device === target ? SL_PENDING_RETURNED : 0),
        device,
        fileObjectVa,
        completionRoutine,
        context,
      });
    });
    const current = locations.find((l) => l.device === target)!;
    if (hijack) {
      // The stub draws from a stream of its own: the activity's other draws stay as they were.
      const module = target.driver.module;
      const next =
        module && !module.external
          ? loader.routine(module, 'IoCompletion')
          : loader.routine(rootkit!.module, 'KeyloggerReadComplete');
      current.completionRoutine = plantPoolCode(ctx, rng.fork('completion-hook'), next);
      current.context = 0n;
      current.control |= SL_INVOKE_ALL;
    }
    const irp: IrpModel = {
      va: block.dataVa,
      thread,
      major: request.major,
      stackCount,
      currentLocation: current.index + 1,
      size,
      flags: request.flags,
      requestorMode: request.requestorMode,
      locations,
      target,
      fileObjectVa,
      fileName: request.fileName,
      pendingOn: target,
    };
    this.writeIrp(irp, request, block.dataVa);
    thread.irps.push(irp);
    this.irps.push(irp);
    return irp;
  }

  private writeFileObject(device: DeviceModel, fileName: string): bigint {
    const { ctx, layout } = this;
    const object = ctx.objects.create({
      type: 'File',
      bodySize: sizeOf(layout, '_FILE_OBJECT'),
      pool: ctx.nonPaged,
    });
    const w = new ByteWriter(sizeOf(layout, '_FILE_OBJECT'), this.ptr);
    w.u16(field(layout, '_FILE_OBJECT', 'Type'), FILE_OBJECT_TYPE);
    w.u16(field(layout, '_FILE_OBJECT', 'Size'), sizeOf(layout, '_FILE_OBJECT'));
    w.ptr(field(layout, '_FILE_OBJECT', 'DeviceObject'), device.object!.bodyVa);
    if (fileName) {
      const bytes = utf16le(fileName, false);
      const buffer = ctx.nonPaged.allocate('IoNm', bytes.length);
      this.vm.write(buffer.dataVa, bytes);
      w.unicodeString(field(layout, '_FILE_OBJECT', 'FileName'), bytes.length, bytes.length, buffer.dataVa);
    }
    this.vm.write(object.bodyVa, w.bytes);
    return object.bodyVa;
  }

  private writeIrp(irp: IrpModel, request: PlannedRequest, va: bigint): void {
    const { layout, ptr, rng } = this;
    const f = (name: string) => field(layout, '_IRP', name);
    const w = new ByteWriter(irp.size, ptr);
    w.u16(f('Type'), IRP_TYPE).u16(f('Size'), irp.size);
    w.u32(f('Flags'), irp.flags);
    if (irp.flags & IRP_BUFFERED_IO) {
      const buffer = this.ctx.nonPaged.allocate('Irp ', Math.max(request.parameters[0], 0x10));
      w.ptr(f('AssociatedIrp'), buffer.dataVa);
    }
    w.u8(f('RequestorMode'), irp.requestorMode);
    w.u8(f('StackCount'), irp.stackCount).u8(f('CurrentLocation'), irp.currentLocation);
    w.u8(f('PendingReturned'), 0);
    w.u32(f('IoStatus'), 0x103); // STATUS_PENDING
    if (irp.requestorMode === 1) {
      const user = this.layout.arch === 'x64' ? 0x000000c000000000n : 0x00100000n;
      w.ptr(f('UserBuffer'), user + BigInt(rng.int(0, 0xffff) * 0x10));
    }
    // Tail.Overlay: DriverContext[4], Thread, AuxiliaryBuffer, ListEntry, CurrentStackLocation, OriginalFileObject.
    const tail = f('Tail');
    const locationSize = sizeOf(layout, '_IO_STACK_LOCATION');
    const irpSize = sizeOf(layout, '_IRP');
    w.ptr(tail + 4 * ptr, irp.thread.ethreadVa);
    w.ptr(tail + 8 * ptr, va + BigInt(irpSize + (irp.currentLocation - 1) * locationSize));
    w.ptr(tail + 9 * ptr, irp.fileObjectVa);
    const s = (name: string) => field(layout, '_IO_STACK_LOCATION', name);
    for (const location of irp.locations) {
      const at = irpSize + location.index * locationSize;
      w.u8(at + s('MajorFunction'), location.major).u8(at + s('MinorFunction'), location.minor);
      w.u8(at + s('Control'), location.control);
      const parameters = at + s('Parameters');
      if (request.major === IRP_MJ.IRP_MJ_READ) {
        w.u32(parameters, request.parameters[0]);
      } else {
        // DeviceIoControl / FileSystemControl: OutputBufferLength, InputBufferLength, code (ULONG_PTR-aligned on x64).
        w.u32(parameters, request.parameters[0]);
        w.u32(parameters + ptr, request.parameters[1]);
        w.u32(parameters + 2 * ptr, request.parameters[2]);
      }
      w.ptr(at + s('DeviceObject'), location.device.object!.bodyVa);
      w.ptr(at + s('FileObject'), location.fileObjectVa);
      w.ptr(at + s('CompletionRoutine'), location.completionRoutine);
      w.ptr(at + s('Context'), location.context);
    }
    this.vm.write(va, w.bytes);
  }

  /** ETHREAD bodies, each process's thread list, each thread's IRP list (call after the processes are written). */
  write(processes: ProcessModel[]): void {
    const { layout, vm } = this;
    const ptr = BigInt(this.ptr);
    const link = (head: bigint, entries: bigint[]) => {
      const ring = [head, ...entries];
      for (let i = 0; i < ring.length; i++) {
        vm.writePtr(ring[i]!, ring[(i + 1) % ring.length]!);
        vm.writePtr(ring[i]! + ptr, ring[(i - 1 + ring.length) % ring.length]!);
      }
    };
    const t = (name: string) => BigInt(field(layout, '_ETHREAD', name));
    const cid = field(layout, '_ETHREAD', 'Cid');
    const ownerFields = processPointerOffsets(layout);
    for (const thread of this.threads) {
      const w = new ByteWriter(sizeOf(layout, '_ETHREAD'), this.ptr);
      w.u8(0, THREAD_OBJECT);
      w.ptr(cid + field(layout, '_CLIENT_ID', 'UniqueProcess'), BigInt(thread.process.pid));
      w.ptr(cid + field(layout, '_CLIENT_ID', 'UniqueThread'), BigInt(thread.tid));
      w.ptr(Number(t('StartAddress')), thread.startAddress);
      w.ptr(Number(t('Win32StartAddress')), thread.win32StartAddress);
      for (const at of ownerFields) w.ptr(at, thread.process.eprocessVa);
      vm.write(thread.ethreadVa, w.bytes);
      const irpLinks = BigInt(field(layout, '_IRP', 'ThreadListEntry'));
      link(
        thread.ethreadVa + t('IrpList'),
        thread.irps.map((irp) => irp.va + irpLinks),
      );
    }
    const head = BigInt(field(layout, '_EPROCESS', 'ThreadListHead'));
    for (const process of processes) {
      const threads = this.threads.filter((th) => th.process === process);
      link(
        process.eprocessVa + head,
        threads.map((th) => th.ethreadVa + t('ThreadListEntry')),
      );
    }
  }
}
