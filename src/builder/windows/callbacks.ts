// The notify routines and callbacks a system of the build has, registered by the drivers that
// register them in life, and the kernel's side of it. Arrays of EX_CALLBACK fast references (8
// slots on XP and 2003, 64 from Vista on; CmpCallBackVector 100; 3 reference-count bits on x86, 4
// on x64) to EX_CALLBACK_ROUTINE_BLOCKs { RundownProtect, Function, Context } in nonpaged pool (tag
// Cbrb); LIST_ENTRY rings of CM_CALLBACK_CONTEXT_BLOCKEX (registry, Vista on),
// KBUGCHECK_(REASON_)CALLBACK_RECORD (in the registering driver's data, with its Component name),
// SHUTDOWN_PACKET { ListEntry, DeviceObject } and NOTIFICATION_PACKET { ListEntry, DriverObject,
// NotificationRoutine } (the pool tags of these three are the builder's). The exported
// registration routines' code loads each head: directly on XP and 2003 and for the I/O and
// bug-check lists, through an internal routine (PspSetCreateProcessNotifyRoutine,
// CmpRegisterCallbackInternal, …) for the notify arrays and registry callbacks from Vista on.
//
// Facts: ReactOS ntoskrnl/ps/psnotify.c and ntoskrnl/ex/callback.c (structures, fast-reference
// bits, the Cbrb tag); Volatility 3 plugins/windows/callbacks.py (slot counts per version);
// the registering drivers as stock systems show them in `callbacks` output (ksecdd, cng, tcpip,
// the Defender filter WdFilter, ndis, Wdf01000, volmgr/Ftdisk, FltMgr/sr); WinObjEx64's reader of
// CallbackListHead for CM_CALLBACK_CONTEXT_BLOCKEX; wdm.h for the bug-check records. The builder keeps its own copy: the truth must not come from
// the engine.

import type { KernelLayout } from '../layout/kernel-layout';
import type { VirtualMemory } from '../memory/virtual';
import type { Rng } from '../rng';
import type { DeviceModel, DriverContext, DriverModel, DriverSet } from './drivers';
import type { KernelImage } from './kernel-image';
import type { LoadedModule } from './modules';
import {
  hasObjectCallbacks,
  linkTypes,
  writeDesktopTypeVariable,
  writeRegistration,
  type ObjectCallbackKind,
  type ObjectOperation,
  type ObjectRegistration,
} from './object-callbacks';

export const CALLBACK_KINDS = [
  'process-notify',
  'thread-notify',
  'image-load-notify',
  'registry',
  'bugcheck',
  'bugcheck-reason',
  'shutdown',
  'last-chance-shutdown',
  'fs-registration',
] as const;
export type CallbackKind = (typeof CALLBACK_KINDS)[number];

interface KernelSide {
  head: string;
  exported: string;
  /** The internal routine the export hands over to from Vista on (null: the export loads the head). */
  internal: string | null;
}

function kernelSide(kind: CallbackKind, legacy: boolean): KernelSide {
  switch (kind) {
    case 'process-notify':
      return {
        head: 'PspCreateProcessNotifyRoutine',
        exported: 'PsSetCreateProcessNotifyRoutine',
        internal: 'PspSetCreateProcessNotifyRoutine',
      };
    case 'thread-notify':
      return {
        head: 'PspCreateThreadNotifyRoutine',
        exported: 'PsSetCreateThreadNotifyRoutine',
        internal: 'PspSetCreateThreadNotifyRoutine',
      };
    case 'image-load-notify':
      return {
        head: 'PspLoadImageNotifyRoutine',
        exported: 'PsSetLoadImageNotifyRoutine',
        internal: 'PsSetLoadImageNotifyRoutineEx',
      };
    case 'registry':
      return legacy
        ? { head: 'CmpCallBackVector', exported: 'CmRegisterCallback', internal: null }
        : {
            head: 'CallbackListHead',
            exported: 'CmRegisterCallbackEx',
            internal: 'CmpRegisterCallbackInternal',
          };
    case 'bugcheck':
      return { head: 'KeBugCheckCallbackListHead', exported: 'KeRegisterBugCheckCallback', internal: null };
    case 'bugcheck-reason':
      return {
        head: 'KeBugCheckReasonCallbackListHead',
        exported: 'KeRegisterBugCheckReasonCallback',
        internal: null,
      };
    case 'shutdown':
      return {
        head: 'IopNotifyShutdownQueueHead',
        exported: 'IoRegisterShutdownNotification',
        internal: null,
      };
    case 'last-chance-shutdown':
      return {
        head: 'IopNotifyLastChanceShutdownQueueHead',
        exported: 'IoRegisterLastChanceShutdownNotification',
        internal: null,
      };
    case 'fs-registration':
      return {
        head: 'IopFsNotifyChangeQueueHead',
        exported: 'IoRegisterFsRegistrationChange',
        // A thunk on the kernels of the symbol files (the next symbol follows 8 bytes on).
        internal: 'IoRegisterFsRegistrationChangeMountAware',
      };
  }
}

type Registration =
  | { driver: string; kind: CallbackKind; routine: string; ex?: boolean; component?: string }
  | { driver: string; kind: 'shutdown' | 'last-chance-shutdown'; device: number };

/** The registering drivers of a stock system; a driver the build lacks registers nothing. */
const REGISTRATIONS: readonly Registration[] = [
  { driver: 'KSecDD', kind: 'process-notify', routine: 'KsecCreateProcessNotifyRoutine' },
  { driver: 'CNG', kind: 'process-notify', routine: 'CngCreateProcessNotifyRoutine' },
  { driver: 'Tcpip', kind: 'process-notify', routine: 'CreateProcessNotifyRoutineEx', ex: true },
  { driver: 'WdFilter', kind: 'process-notify', routine: 'MpCreateProcessNotifyRoutineEx', ex: true },
  { driver: 'WdFilter', kind: 'thread-notify', routine: 'MpCreateThreadNotifyRoutine' },
  { driver: 'WdFilter', kind: 'image-load-notify', routine: 'MpLoadImageNotifyRoutine' },
  { driver: 'WdFilter', kind: 'registry', routine: 'MpRegCallback' },
  { driver: 'NDIS', kind: 'bugcheck', routine: 'ndisBugcheckHandler', component: 'Ndis' },
  { driver: 'Wdf01000', kind: 'bugcheck-reason', routine: 'FxpBugCheckCallback', component: 'Wdf01000' },
  { driver: 'volmgr', kind: 'shutdown', device: 0 },
  { driver: 'Ftdisk', kind: 'shutdown', device: 0 },
  { driver: 'FltMgr', kind: 'fs-registration', routine: 'FltpFsNotification' },
  { driver: 'sr', kind: 'fs-registration', routine: 'SrFsNotification' },
];

export interface RegisteredCallback {
  kind: CallbackKind | ObjectCallbackKind;
  /** Array slot, or place on the list from its head's Flink. */
  slot: number;
  routine: bigint;
  /** The module holding the routine; null for code in pool. */
  owner: string | null;
  context: bigint;
  component: string | null;
  device: DeviceModel | null;
  driver: DriverModel | null;
  planted: boolean;
  /** Set by write(): the slot or the record, and an array slot's block. */
  entry: bigint;
  block: bigint | null;
  /** Object callbacks: the entry's pre- or post-operation routine. */
  operation: 'pre' | 'post' | null;
}

const IRP_MJ_SHUTDOWN = 0x10;

/** The object callbacks of a stock system: ObRegisterCallbacks calls by the drivers that make them. */
const OBJECT_REGISTRATIONS: ReadonlyArray<{
  driver: string;
  altitude: string;
  pre: string;
  kinds: ObjectCallbackKind[];
}> = [
  {
    driver: 'WdFilter',
    altitude: '328010',
    pre: 'MpObPreOperationCallback',
    kinds: ['process-object', 'thread-object'],
  },
];

export class Callbacks {
  readonly registered: RegisteredCallback[] = [];
  readonly heads = new Map<CallbackKind | ObjectCallbackKind, bigint>();
  /** The OBJECT_TYPE of each object-callback head. */
  readonly objectTypes = new Map<CallbackKind | ObjectCallbackKind, bigint>();
  private readonly objectRegistrations: ObjectRegistration[] = [];
  private readonly objectSlots = new Map<ObjectCallbackKind, number>();
  private readonly operationOf = new Map<RegisteredCallback, ObjectOperation>();
  private readonly legacy: boolean;
  private readonly slots: number;

  constructor(
    private readonly ctx: DriverContext,
    private readonly rng: Rng,
  ) {
    this.legacy = ctx.layout.version.build < 6000;
    this.slots = this.legacy ? 8 : 64;
  }

  private isArray(kind: CallbackKind): boolean {
    return kind.endsWith('-notify') || (kind === 'registry' && this.legacy);
  }

  private slotCount(kind: CallbackKind): number {
    return kind === 'registry' ? 100 : this.slots;
  }

  /** What the stock drivers of this system register. */
  registerSystem(drivers: DriverSet): void {
    for (const registration of REGISTRATIONS) {
      const driver = drivers.findDriver(registration.driver);
      const module = driver?.module;
      if (!driver || !module) continue;
      if ('device' in registration) {
        const device = driver.devices[registration.device];
        if (device) this.addShutdown(registration.kind, driver, device, false);
        continue;
      }
      const routine = this.ctx.loader.routine(module, registration.routine);
      // Windows 7 and later keep the Ex variant's flag in the block's Context.
      const context = registration.ex && this.ctx.layout.version.build >= 7600 ? 2n : 0n;
      this.add(registration.kind, routine, module, {
        context,
        component: registration.component ?? null,
        // Only a file-system registration's record names its driver.
        driver: registration.kind === 'fs-registration' ? driver : null,
      });
    }
    for (const registration of OBJECT_REGISTRATIONS) {
      const module = drivers.findDriver(registration.driver)?.module;
      if (!module) continue;
      const pre = this.ctx.loader.routine(module, registration.pre);
      this.addObject({
        module,
        altitude: registration.altitude,
        context: 0n,
        operations: registration.kinds.map((kind) => ({ kind, pre, post: null })),
        planted: false,
      });
    }
  }

  /** A registration in the next slot or at the end of the list. */
  add(
    kind: CallbackKind,
    routine: bigint,
    module: LoadedModule | null,
    extra: {
      context?: bigint;
      component?: string | null;
      driver?: DriverModel | null;
      planted?: boolean;
    } = {},
  ): void {
    const slot = this.registered.filter((r) => r.kind === kind).length;
    if (this.isArray(kind) && slot >= this.slotCount(kind))
      throw new Error(`internal: the ${kind} array is full`);
    this.registered.push({
      kind,
      slot,
      routine,
      owner: module?.name ?? null,
      context: extra.context ?? 0n,
      component: extra.component ?? null,
      device: null,
      driver: extra.driver ?? null,
      planted: extra.planted ?? false,
      entry: 0n,
      block: null,
      operation: null,
    });
  }

  /** An ObRegisterCallbacks call: each non-null routine of each operation is one registration. */
  addObject(registration: ObjectRegistration): void {
    if (!hasObjectCallbacks(this.ctx.layout)) return;
    this.objectRegistrations.push(registration);
    for (const operation of registration.operations) {
      const slot = this.objectSlots.get(operation.kind) ?? 0;
      this.objectSlots.set(operation.kind, slot + 1);
      for (const [which, routine] of [
        ['pre', operation.pre],
        ['post', operation.post],
      ] as const) {
        if (routine === null) continue;
        const registered: RegisteredCallback = {
          kind: operation.kind,
          slot,
          routine,
          owner: registration.module?.name ?? null,
          context: registration.context,
          component: registration.altitude,
          device: null,
          driver: null,
          planted: registration.planted,
          entry: 0n,
          block: null,
          operation: which,
        };
        this.registered.push(registered);
        this.operationOf.set(registered, operation);
      }
    }
  }

  /** IoRegisterShutdownNotification on `device`: the kernel will send its driver IRP_MJ_SHUTDOWN. */
  addShutdown(
    kind: 'shutdown' | 'last-chance-shutdown',
    driver: DriverModel,
    device: DeviceModel,
    planted: boolean,
  ): void {
    const module = driver.module!;
    const current = driver.majors[IRP_MJ_SHUTDOWN];
    if (!current || current.verdict !== 'own-image')
      driver.majors[IRP_MJ_SHUTDOWN] = {
        va: this.ctx.loader.routine(module, 'DispatchShutdown'),
        verdict: 'own-image',
        owner: module.name,
      };
    this.add(kind, driver.majors[IRP_MJ_SHUTDOWN]!.va, module, { driver, planted });
    this.registered.at(-1)!.device = device;
  }

  /** The arrays and lists, their blocks and records, and the registration routines that load them. */
  write(): void {
    const { layout, vm, kernel } = this.ctx;
    for (const kind of CALLBACK_KINDS) {
      const side = kernelSide(kind, this.legacy);
      const entries = this.registered.filter((r) => r.kind === kind);
      const head = this.isArray(kind)
        ? this.writeArray(side.head, this.slotCount(kind), entries)
        : this.writeList(side.head, kind, entries);
      this.heads.set(kind, head);
      writeRegistrationCode(layout, vm, kernel, side, head, this.legacy);
    }
    // CmpInsertCallbackInListByAltitude counts each registry callback it links (and
    // CmUnRegisterCallback uncounts it); CmpCallBackCount 0 means none is called.
    const registry = this.registered.filter((r) => r.kind === 'registry').length;
    vm.writeU32(kernel.symbol('CmpCallBackCount', 4), registry);
    this.writeObjectCallbacks();
  }

  /** The registration blocks, every type's CallbackList, and ExDesktopObjectType. */
  private writeObjectCallbacks(): void {
    writeDesktopTypeVariable(this.ctx);
    if (!hasObjectCallbacks(this.ctx.layout)) return;
    const written = this.objectRegistrations.flatMap((r) => writeRegistration(this.ctx, r));
    for (const [registered, operation] of this.operationOf) {
      const at = written.find((w) => w.operation === operation)!;
      registered.entry = at.entry;
      registered.block = at.block;
    }
    for (const [kind, { head, type }] of linkTypes(this.ctx, written)) {
      this.heads.set(kind, head);
      this.objectTypes.set(kind, type);
    }
  }

  private writeArray(name: string, slots: number, entries: RegisteredCallback[]): bigint {
    const { layout, vm, kernel, nonPaged } = this.ctx;
    const ptr = layout.pointerSize;
    const mask = layout.arch === 'x64' ? 0xf : 0x7;
    const array = kernel.symbol(name, slots * ptr);
    vm.write(array, new Uint8Array(slots * ptr));
    for (const entry of entries) {
      const block = nonPaged.allocate('Cbrb', 3 * ptr).dataVa;
      vm.writePtr(block, 0n); // RundownProtect: no call in progress
      vm.writePtr(block + BigInt(ptr), entry.routine);
      vm.writePtr(block + BigInt(2 * ptr), entry.context);
      entry.entry = array + BigInt(entry.slot * ptr);
      entry.block = block;
      vm.writePtr(entry.entry, block | BigInt(this.rng.int(1, mask)));
    }
    return array;
  }

  /** The records (allocated as their registrants allocate them) linked in order on the head. */
  private writeList(name: string, kind: CallbackKind, entries: RegisteredCallback[]): bigint {
    const { layout, vm, kernel } = this.ctx;
    const p = BigInt(layout.pointerSize);
    const head = kernel.symbol(name, 2 * layout.pointerSize);
    for (const entry of entries) entry.entry = this.writeRecord(kind, entry);
    const ring = [head, ...entries.map((e) => e.entry), head];
    for (let i = 0; i + 1 < ring.length; i++) {
      vm.writePtr(ring[i]!, ring[i + 1]!); // Flink
      vm.writePtr(ring[i + 1]! + p, ring[i]!); // Blink
    }
    return head;
  }

  private writeRecord(kind: CallbackKind, entry: RegisteredCallback): bigint {
    const { layout, vm, nonPaged, loader } = this.ctx;
    const p = layout.pointerSize;
    const module = entry.owner === null ? null : (loader.modules.find((m) => m.name === entry.owner) ?? null);
    const component = (record: bigint, at: number) => {
      if (entry.component === null || !module) return;
      const text = loader.dataSlot(module, entry.component.length + 1);
      vm.write(text, Uint8Array.from([...entry.component].map((c) => c.charCodeAt(0)).concat(0)));
      vm.writePtr(record + BigInt(at), text);
    };
    switch (kind) {
      case 'registry': {
        // CM_CALLBACK_CONTEXT_BLOCKEX: Cookie, CallerContext, Function, Altitude.
        const record = nonPaged.allocate('CMcb', p === 8 ? 0x50 : 0x30).dataVa;
        vm.writePtr(record + BigInt(p === 8 ? 0x18 : 0x10), BigInt(0x1d0000000 + entry.slot));
        vm.writePtr(record + BigInt(p === 8 ? 0x20 : 0x18), entry.context);
        vm.writePtr(record + BigInt(p === 8 ? 0x28 : 0x1c), entry.routine);
        return record;
      }
      case 'bugcheck':
      case 'bugcheck-reason': {
        // Drivers keep their KBUGCHECK_(REASON_)CALLBACK_RECORD in their own data.
        const record = module ? loader.dataSlot(module, 8 * p) : nonPaged.allocate('None', 8 * p).dataVa;
        vm.writePtr(record + BigInt(2 * p), entry.routine);
        component(record, kind === 'bugcheck' ? 5 * p : 3 * p);
        return record;
      }
      case 'shutdown':
      case 'last-chance-shutdown': {
        const record = nonPaged.allocate('IoSh', 3 * p).dataVa;
        vm.writePtr(record + BigInt(2 * p), entry.device!.object!.bodyVa);
        return record;
      }
      case 'fs-registration': {
        const record = nonPaged.allocate('IoFs', 4 * p).dataVa;
        vm.writePtr(record + BigInt(2 * p), entry.driver?.object?.bodyVa ?? 0n);
        vm.writePtr(record + BigInt(3 * p), entry.routine);
        return record;
      }
      default:
        throw new Error(`internal: ${kind} is an array`);
    }
  }
}

/**
 * The exported routine, and from Vista on the internal one it hands over to, with the reference
 * to the array where the kernel's own code has it: x64 `lea rcx,[rip+array]`; x86 `mov edi,
 * offset array`.
 */
function writeRegistrationCode(
  layout: KernelLayout,
  vm: VirtualMemory,
  kernel: KernelImage,
  side: KernelSide,
  head: bigint,
  legacy: boolean,
): void {
  const exported = kernel.symbol(side.exported);
  const body = legacy || side.internal === null ? exported : kernel.symbol(side.internal);
  if (body !== exported) vm.write(exported, thunk(layout.arch, exported, body));
  vm.write(body, layout.arch === 'x64' ? x64Body(body, head) : x86Body(head));
}

function rel32(from: bigint, to: bigint): number[] {
  const value = Number(BigInt.asIntN(32, to - from));
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

function abs32(value: bigint): number[] {
  return rel32(0n, value);
}

/** Exported routine handing over to the internal one (x64: 8 bytes, as close as the next symbol may follow). */
function thunk(arch: 'x86' | 'x64', at: bigint, target: bigint): Uint8Array {
  if (arch === 'x64') return Uint8Array.from([0x45, 0x33, 0xc0, 0xe9, ...rel32(at + 8n, target)]); // xor r8d,r8d; jmp
  return Uint8Array.from([
    0x8b,
    0xff,
    0x55,
    0x8b,
    0xec, // mov edi,edi; push ebp; mov ebp,esp
    0x6a,
    0x00,
    0xff,
    0x75,
    0x0c,
    0xff,
    0x75,
    0x08, // push 0; push [ebp+0Ch]; push [ebp+8]
    0xe8,
    ...rel32(at + 18n, target), // call internal (at +13, 5 bytes)
    0x5d,
    0xc2,
    0x08,
    0x00, // pop ebp; ret 8
  ]);
}

function x64Body(at: bigint, array: bigint): Uint8Array {
  const lea = at + 14n;
  return Uint8Array.from([
    0x48,
    0x89,
    0x5c,
    0x24,
    0x08, // mov [rsp+8],rbx
    0x57, // push rdi
    0x48,
    0x83,
    0xec,
    0x20, // sub rsp,20h
    0x48,
    0x8b,
    0xf9, // mov rdi,rcx
    0x90, // nop
    0x48,
    0x8d,
    0x0d,
    ...rel32(lea + 7n, array), // lea rcx,[rip+array]
    0x33,
    0xdb, // xor ebx,ebx
    0x48,
    0x8b,
    0x5c,
    0x24,
    0x30, // mov rbx,[rsp+30h]
    0x48,
    0x83,
    0xc4,
    0x20, // add rsp,20h
    0x5f, // pop rdi
    0xc3, // ret
  ]);
}

function x86Body(array: bigint): Uint8Array {
  return Uint8Array.from([
    0x8b,
    0xff,
    0x55,
    0x8b,
    0xec, // mov edi,edi; push ebp; mov ebp,esp
    0x53,
    0x56,
    0x57, // push ebx; push esi; push edi
    0x33,
    0xdb, // xor ebx,ebx
    0xbf,
    ...abs32(array), // mov edi, offset array
    0x5f,
    0x5e,
    0x5b, // pop edi; pop esi; pop ebx
    0x5d,
    0xc2,
    0x08,
    0x00, // pop ebp; ret 8
  ]);
}
