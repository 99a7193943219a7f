// The process, thread and image-load notify routines a system of the build has, registered by
// the drivers that register them in life, and the kernel's side of it: the arrays of EX_CALLBACK
// fast references (8 slots on XP and 2003, 64 from Vista on; 3 reference-count bits on x86, 4 on
// x64) to EX_CALLBACK_ROUTINE_BLOCKs { RundownProtect, Function, Context } in nonpaged pool
// (tag Cbrb), and the exported registration routines whose code loads each array: directly on
// XP and 2003, through an internal routine (PspSetCreateProcessNotifyRoutine, …) from Vista on.
//
// Facts: ReactOS ntoskrnl/ps/psnotify.c and ntoskrnl/ex/callback.c (structures, fast-reference
// bits, the Cbrb tag); Volatility 3 plugins/windows/callbacks.py (slot counts per version);
// the registering drivers as stock systems show them in `callbacks` output (ksecdd, cng, tcpip,
// the Defender filter WdFilter). The builder keeps its own copy: the truth must not come from
// the engine.

import type { KernelLayout } from '../layout/kernel-layout';
import type { VirtualMemory } from '../memory/virtual';
import type { Rng } from '../rng';
import type { DriverContext, DriverSet } from './drivers';
import type { KernelImage } from './kernel-image';
import type { LoadedModule } from './modules';

export const NOTIFY_KINDS = ['process-notify', 'thread-notify', 'image-load-notify'] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];

interface KernelSide {
  array: string;
  exported: string;
  internal: string;
}

const KERNEL_SIDE: Record<NotifyKind, KernelSide> = {
  'process-notify': {
    array: 'PspCreateProcessNotifyRoutine',
    exported: 'PsSetCreateProcessNotifyRoutine',
    internal: 'PspSetCreateProcessNotifyRoutine',
  },
  'thread-notify': {
    array: 'PspCreateThreadNotifyRoutine',
    exported: 'PsSetCreateThreadNotifyRoutine',
    internal: 'PspSetCreateThreadNotifyRoutine',
  },
  'image-load-notify': {
    array: 'PspLoadImageNotifyRoutine',
    exported: 'PsSetLoadImageNotifyRoutine',
    internal: 'PsSetLoadImageNotifyRoutineEx',
  },
};

/** The registering drivers of a stock system; a driver the build lacks registers nothing. */
const REGISTRATIONS: ReadonlyArray<{ driver: string; kind: NotifyKind; routine: string; ex: boolean }> = [
  { driver: 'KSecDD', kind: 'process-notify', routine: 'KsecCreateProcessNotifyRoutine', ex: false },
  { driver: 'CNG', kind: 'process-notify', routine: 'CngCreateProcessNotifyRoutine', ex: false },
  { driver: 'Tcpip', kind: 'process-notify', routine: 'CreateProcessNotifyRoutineEx', ex: true },
  { driver: 'WdFilter', kind: 'process-notify', routine: 'MpCreateProcessNotifyRoutineEx', ex: true },
  { driver: 'WdFilter', kind: 'thread-notify', routine: 'MpCreateThreadNotifyRoutine', ex: false },
  { driver: 'WdFilter', kind: 'image-load-notify', routine: 'MpLoadImageNotifyRoutine', ex: false },
];

export interface RegisteredNotify {
  kind: NotifyKind;
  slot: number;
  routine: bigint;
  /** The module holding the routine; null for code in pool. */
  owner: string | null;
  context: bigint;
  planted: boolean;
  /** Set by write(). */
  entry: bigint;
  block: bigint;
}

export class NotifyRoutines {
  readonly registered: RegisteredNotify[] = [];
  readonly arrays = new Map<NotifyKind, bigint>();
  private readonly slots: number;

  constructor(
    private readonly ctx: DriverContext,
    private readonly rng: Rng,
  ) {
    this.slots = ctx.layout.version.build < 6000 ? 8 : 64;
  }

  /** What the stock drivers of this system register. */
  registerSystem(drivers: DriverSet): void {
    for (const registration of REGISTRATIONS) {
      const module = drivers.findDriver(registration.driver)?.module;
      if (!module) continue;
      const routine = this.ctx.loader.routine(module, registration.routine);
      // Windows 7 and later keep the Ex variant's flag in the block's Context.
      const context = registration.ex && this.ctx.layout.version.build >= 7600 ? 2n : 0n;
      this.add(registration.kind, routine, module, context, false);
    }
  }

  /** A registration in the first free slot, as the kernel makes it. */
  add(
    kind: NotifyKind,
    routine: bigint,
    module: LoadedModule | null,
    context: bigint,
    planted: boolean,
  ): void {
    const slot = this.registered.filter((r) => r.kind === kind).length;
    if (slot >= this.slots) throw new Error(`internal: the ${kind} array is full`);
    this.registered.push({
      kind,
      slot,
      routine,
      owner: module?.name ?? null,
      context,
      planted,
      entry: 0n,
      block: 0n,
    });
  }

  /** The arrays, their blocks in pool, and the registration routines that load them. */
  write(): void {
    const { layout, vm, kernel, nonPaged } = this.ctx;
    const ptr = layout.pointerSize;
    const mask = layout.arch === 'x64' ? 0xf : 0x7;
    for (const kind of NOTIFY_KINDS) {
      const side = KERNEL_SIDE[kind];
      const array = kernel.symbol(side.array, this.slots * ptr);
      this.arrays.set(kind, array);
      vm.write(array, new Uint8Array(this.slots * ptr));
      for (const registration of this.registered.filter((r) => r.kind === kind)) {
        const block = nonPaged.allocate('Cbrb', 3 * ptr).dataVa;
        vm.writePtr(block, 0n); // RundownProtect: no call in progress
        vm.writePtr(block + BigInt(ptr), registration.routine);
        vm.writePtr(block + BigInt(2 * ptr), registration.context);
        registration.entry = array + BigInt(registration.slot * ptr);
        registration.block = block;
        vm.writePtr(registration.entry, block | BigInt(this.rng.int(1, mask)));
      }
      writeRegistrationCode(layout, vm, kernel, side, array);
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
  array: bigint,
): void {
  const exported = kernel.symbol(side.exported);
  const direct = layout.version.build < 6000;
  const body = direct ? exported : kernel.symbol(side.internal);
  if (!direct) vm.write(exported, thunk(layout.arch, exported, body));
  vm.write(body, layout.arch === 'x64' ? x64Body(body, array) : x86Body(array));
}

function rel32(from: bigint, to: bigint): number[] {
  const value = Number(BigInt.asIntN(32, to - from));
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

function abs32(value: bigint): number[] {
  return rel32(0n, value);
}

/** Exported routine handing over to the internal one (at most 0x20 bytes: the next export may follow). */
function thunk(arch: 'x86' | 'x64', at: bigint, target: bigint): Uint8Array {
  if (arch === 'x64') return Uint8Array.from([0x45, 0x33, 0xc0, 0xe9, ...rel32(at + 8n, target), 0xcc, 0xcc]); // xor r8d,r8d; jmp
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
