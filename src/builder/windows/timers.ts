// The kernel timers a system has armed, each with the DPC its owner gave KeSetTimer, on the
// kernel's timer table: per processor in the KPRCB from Windows 7 (KPRCB.TimerTable.TimerEntries,
// 256 KTIMER_TABLE_ENTRY { Lock; LIST_ENTRY Entry; Time }, 2 × 256 where the ISF's _KTIMER_TABLE
// has TableState), before it one global KiTimerTableListHead in ntoskrnl's data (256 LIST_ENTRYs
// on XP, 512 KTIMER_TABLE_ENTRY { LIST_ENTRY Entry; Time } on Server 2003 SP1 on). A timer hangs on
// the entry of its due time, (DueTime / KeMaximumIncrement) modulo the table's size. x64 kernels
// from Windows 7 store KTIMER.Dpc encoded: ROR64(BSWAP64(dpc ^ KiWaitAlways) ^ &timer,
// KiWaitNever & 0xFF) ^ KiWaitNever, the inverse of the decoding Volatility 3's KTIMER.get_dpc
// applies; KeSetTimerEx hands over to KiSetTimerEx, which loads both keys to encode.
//
// Facts: Volatility 3 plugins/windows/timers.py (tables per version); the WRK's kernldat.c
// (KiTimerTableListHead); the ISFs of ../shared/isf (_KTIMER, _KDPC, _KTIMER_TABLE, _KPRCB,
// _KOBJECTS: TimerNotificationObject 8, TimerSynchronizationObject 9, DpcObject 19); ntdiff/headers
// Win7 SP1 x86 (_KPRCB.TimerTable @0x1960, TimerExpiry[16] then TimerEntries @0x40). The owners
// and routines are those stock systems show in `timers` output (ntoskrnl's Cc scan, I/O timer and
// executive timers, Ntfs's checkpoint, afd's timeout poll, NDIS's wake-up DPC, tcpip's periodic
// timeout, KMDF's timer thunk). The builder keeps its own copy: the truth must not come from the
// engine.

import { field, hasField, sizeOf, type KernelLayout } from '../layout/kernel-layout';
import type { Rng } from '../rng';
import { dispatchRoutine } from './code';
import type { ProcessorModel } from './descriptors';
import type { DriverContext, DriverSet } from './drivers';

/** KeMaximumIncrement: the clock tick in 100 ns units (15.625 ms). */
const CLOCK_TICK = 156250n;
const TIMER_NOTIFICATION = 8;
const TIMER_SYNCHRONIZATION = 9;
const DPC_OBJECT = 19;

interface StockTimer {
  /** The driver whose module holds the routine; null: ntoskrnl. */
  driver: string | null;
  routine: string;
  /** KTIMER.Period in ms; 0: a one-shot timer. */
  period: number;
  /** How many such timers are armed at capture, from boot to boot (at least one: every boot has it). */
  count: readonly [number, number];
  tag: string;
}

const STOCK: readonly StockTimer[] = [
  { driver: null, routine: 'CcScanDpc', period: 0, count: [1, 1], tag: 'Cc  ' },
  { driver: null, routine: 'IopTimerDispatch', period: 1000, count: [1, 1], tag: 'Io  ' },
  { driver: null, routine: 'ExpTimerDpcRoutine', period: 0, count: [2, 6], tag: 'ETim' },
  { driver: null, routine: 'CmpLazyFlushDpcRoutine', period: 0, count: [1, 1], tag: 'CM  ' },
  { driver: 'Ntfs', routine: 'NtfsVolumeCheckpointDpc', period: 5000, count: [1, 2], tag: 'Ntfs' },
  { driver: 'AFD', routine: 'AfdTimeoutPoll', period: 0, count: [1, 3], tag: 'Afd ' },
  { driver: 'NDIS', routine: 'ndisMWakeUpDpcX', period: 2000, count: [1, 2], tag: 'NDtm' },
  { driver: 'Tcpip', routine: 'TcpPeriodicTimeoutHandler', period: 100, count: [1, 1], tag: 'TcpT' },
  { driver: 'Wdf01000', routine: 'FxTimer::_FxTimerDpcThunk', period: 0, count: [1, 3], tag: 'FxTm' },
];

export interface TimerModel {
  routine: bigint;
  /** The module holding the routine; null for code in pool. */
  owner: string | null;
  context: bigint;
  period: number;
  processor: number;
  planted: boolean;
  tag: string;
  /** Set by write(): the KTIMER, its KDPC, the table entry it hangs on. */
  timer: bigint;
  dpc: bigint;
  index: number;
}

export interface TimerTableModel {
  /** null: the global KiTimerTableListHead. */
  processor: number | null;
  /** The first entry's LIST_ENTRY. */
  first: bigint;
  count: number;
  stride: number;
}

export interface WaitKeys {
  never: bigint;
  always: bigint;
}

interface TableShape {
  count: number;
  stride: number;
  /** Offset of the entry's LIST_ENTRY. */
  link: number;
}

function rotateRight64(value: bigint, bits: bigint): bigint {
  const n = bits & 63n;
  return BigInt.asUintN(64, (value >> n) | (value << ((64n - n) & 63n)));
}

function byteSwap64(value: bigint): bigint {
  let out = 0n;
  for (let i = 0n; i < 8n; i++) out = (out << 8n) | ((value >> (i * 8n)) & 0xffn);
  return out;
}

/** KTIMER.Dpc as an x64 Windows 7+ kernel stores it. */
export function encodeTimerDpc(dpc: bigint, timer: bigint, keys: WaitKeys): bigint {
  return rotateRight64(byteSwap64(dpc ^ keys.always) ^ timer, keys.never & 0xffn) ^ keys.never;
}

/** Whether this kernel keeps its timers per processor (Windows 7 on) or in KiTimerTableListHead. */
export function perProcessorTimers(layout: KernelLayout): boolean {
  return layout.version.build >= 7600;
}

/** Whether KTIMER.Dpc is encoded with KiWaitNever/KiWaitAlways (x64, Windows 7 on). */
export function encodesTimerDpc(layout: KernelLayout): boolean {
  return layout.arch === 'x64' && layout.version.build >= 7600;
}

export class KernelTimers {
  readonly timers: TimerModel[] = [];
  readonly tables: TimerTableModel[] = [];

  constructor(
    private readonly ctx: DriverContext,
    private readonly rng: Rng,
  ) {}

  /** The stock timers: routines placed now (stable offsets), how many of each by this boot. */
  registerSystem(drivers: DriverSet, processors: number): void {
    const { kernel, vm, layout, loader } = this.ctx;
    for (const stock of STOCK) {
      let routine: bigint;
      let owner: string;
      if (stock.driver === null) {
        routine = kernel.symbol(stock.routine, 0x80);
        vm.write(routine, dispatchRoutine(layout.arch, this.ctx.rng));
        owner = this.ctx.kernelModule.name;
      } else {
        const module = drivers.findDriver(stock.driver)?.module;
        if (!module) continue;
        routine = loader.routine(module, stock.routine);
        owner = module.name;
      }
      const count = this.rng.int(stock.count[0], stock.count[1]);
      for (let n = 0; n < count; n++)
        this.add(routine, owner, stock.period, this.rng.int(0, processors - 1), false, stock.tag);
    }
  }

  add(
    routine: bigint,
    owner: string | null,
    period: number,
    processor: number,
    planted: boolean,
    tag: string,
  ): void {
    this.timers.push({
      routine,
      owner,
      context: 0n,
      period,
      processor,
      planted,
      tag,
      timer: 0n,
      dpc: 0n,
      index: 0,
    });
  }

  private shape(): TableShape {
    const layout = this.ctx.layout;
    if (perProcessorTimers(layout))
      return {
        count: hasField(layout, '_KTIMER_TABLE', 'TableState') ? 512 : 256,
        stride: sizeOf(layout, '_KTIMER_TABLE_ENTRY'),
        link: field(layout, '_KTIMER_TABLE_ENTRY', 'Entry'),
      };
    // Server 2003 (3790) on: KTIMER_TABLE_ENTRY { LIST_ENTRY Entry; ULARGE_INTEGER Time }.
    if (layout.version.build >= 3790)
      return { count: 512, stride: layout.pointerSize === 8 ? 0x18 : 0x10, link: 0 };
    return { count: 256, stride: 2 * layout.pointerSize, link: 0 };
  }

  /**
   * The tables (in each processor's KPRCB, or the global one), every timer and its DPC in nonpaged
   * pool, and KeSetTimer's code. After the processors are written; `keys` when the kernel encodes.
   */
  write(processors: readonly ProcessorModel[], keys: WaitKeys | null): void {
    const { layout, kernel } = this.ctx;
    const shape = this.shape();
    if (perProcessorTimers(layout)) {
      const offset = field(layout, '_KPRCB', 'TimerTable') + field(layout, '_KTIMER_TABLE', 'TimerEntries');
      processors.forEach((p, number) =>
        this.tables.push({
          processor: number,
          first: p.prcb + BigInt(offset + shape.link),
          count: shape.count,
          stride: shape.stride,
        }),
      );
    } else {
      const table = kernel.symbol('KiTimerTableListHead', shape.count * shape.stride);
      this.tables.push({
        processor: null,
        first: table + BigInt(shape.link),
        count: shape.count,
        stride: shape.stride,
      });
    }
    const rings = this.tables.map((table) => Array.from({ length: table.count }, () => [] as bigint[]));
    const uptime = BigInt(this.rng.int(300, 3 * 3600)) * 10_000_000n;
    for (const timer of this.timers) {
      if (this.tables.length === 1 && this.tables[0]!.processor === null) timer.processor = 0;
      const tableIndex = this.tables.length === 1 ? 0 : Math.min(timer.processor, this.tables.length - 1);
      const table = this.tables[tableIndex]!;
      const due = uptime + BigInt(this.rng.int(1, Math.max(2, timer.period || 60_000))) * 10_000n;
      timer.index = Number((due / CLOCK_TICK) % BigInt(table.count));
      this.writeTimer(timer, due, keys);
      rings[tableIndex]![timer.index]!.push(timer.timer + BigInt(field(layout, '_KTIMER', 'TimerListEntry')));
    }
    this.tables.forEach((table, t) => {
      for (let index = 0; index < table.count; index++)
        this.link(table.first + BigInt(index * table.stride), rings[t]![index]!);
    });
    this.writeSetTimerCode(keys);
  }

  private writeTimer(timer: TimerModel, due: bigint, keys: WaitKeys | null): void {
    const { layout, vm, nonPaged } = this.ctx;
    const timerSize = sizeOf(layout, '_KTIMER');
    const dpcOffset = Math.ceil(timerSize / 16) * 16;
    const block = nonPaged.allocate(timer.tag, dpcOffset + sizeOf(layout, '_KDPC')).dataVa;
    timer.timer = block;
    timer.dpc = block + BigInt(dpcOffset);
    const type = this.rng.int(0, 3) === 0 ? TIMER_SYNCHRONIZATION : TIMER_NOTIFICATION;
    vm.write(timer.timer, new Uint8Array(timerSize));
    vm.write(timer.timer, Uint8Array.of(type));
    // DISPATCHER_HEADER.WaitListHead: no thread waits on it.
    const waitList = timer.timer + 8n;
    vm.writePtr(waitList, waitList);
    vm.writePtr(waitList + BigInt(layout.pointerSize), waitList);
    vm.writeU64(timer.timer + BigInt(field(layout, '_KTIMER', 'DueTime')), due);
    vm.writeU32(timer.timer + BigInt(field(layout, '_KTIMER', 'Period')), timer.period);
    if (hasField(layout, '_KTIMER', 'Processor'))
      vm.writeU32(timer.timer + BigInt(field(layout, '_KTIMER', 'Processor')), timer.processor);
    const stored = keys ? encodeTimerDpc(timer.dpc, timer.timer, keys) : timer.dpc;
    vm.writePtr(timer.timer + BigInt(field(layout, '_KTIMER', 'Dpc')), stored);
    vm.write(timer.dpc, new Uint8Array(sizeOf(layout, '_KDPC')));
    vm.write(timer.dpc, Uint8Array.of(DPC_OBJECT, 1)); // Type, Importance (MediumImportance)
    vm.writePtr(timer.dpc + BigInt(field(layout, '_KDPC', 'DeferredRoutine')), timer.routine);
    vm.writePtr(timer.dpc + BigInt(field(layout, '_KDPC', 'DeferredContext')), timer.context);
  }

  /** Links `records` (LIST_ENTRY addresses) in order on `head`; an empty head points at itself. */
  private link(head: bigint, records: readonly bigint[]): void {
    const { vm, layout } = this.ctx;
    const p = BigInt(layout.pointerSize);
    const ring = [head, ...records, head];
    for (let i = 0; i + 1 < ring.length; i++) {
      vm.writePtr(ring[i]!, ring[i + 1]!);
      vm.writePtr(ring[i + 1]! + p, ring[i]!);
    }
  }

  /**
   * KeSetTimer and KeSetTimerEx. On an encoding kernel each hands over to
   * KiSetTimerEx, whose code loads KiWaitNever and KiWaitAlways and encodes the DPC into the timer:
   * mov r10,[KiWaitNever]; mov r11,[KiWaitAlways]; mov rax,r9; xor rax,r11; bswap rax; xor rax,rcx;
   * mov r9,rcx; mov ecx,r10d; ror rax,cl; xor rax,r10; mov [r9+Dpc],rax; xor eax,eax; ret.
   */
  private writeSetTimerCode(keys: WaitKeys | null): void {
    const { layout, vm, kernel } = this.ctx;
    const names = ['KeSetTimer', 'KeSetTimerEx'];
    if (!keys || layout.arch !== 'x64') {
      for (const name of names)
        vm.write(kernel.symbol(name, 0x80), dispatchRoutine(layout.arch, this.ctx.rng));
      return;
    }
    const internal = kernel.symbol('KiSetTimerEx', 0x80);
    const never = kernel.symbol('KiWaitNever', 8);
    const always = kernel.symbol('KiWaitAlways', 8);
    const rip = (target: bigint, next: bigint) => {
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setInt32(0, Number(BigInt.asIntN(32, target - next)), true);
      return [...bytes];
    };
    const dpc = field(layout, '_KTIMER', 'Dpc');
    const code: number[] = [];
    code.push(0x4c, 0x8b, 0x15, ...rip(never, internal + 7n)); // mov r10, [rip+KiWaitNever]
    code.push(0x4c, 0x8b, 0x1d, ...rip(always, internal + 14n)); // mov r11, [rip+KiWaitAlways]
    code.push(0x4c, 0x89, 0xc8); // mov rax, r9
    code.push(0x4c, 0x31, 0xd8); // xor rax, r11
    code.push(0x48, 0x0f, 0xc8); // bswap rax
    code.push(0x48, 0x31, 0xc8); // xor rax, rcx
    code.push(0x49, 0x89, 0xc9); // mov r9, rcx
    code.push(0x44, 0x89, 0xd1); // mov ecx, r10d
    code.push(0x48, 0xd3, 0xc8); // ror rax, cl
    code.push(0x4c, 0x31, 0xd0); // xor rax, r10
    code.push(0x49, 0x89, 0x41, dpc); // mov [r9+Dpc], rax
    code.push(0x31, 0xc0, 0xc3); // xor eax, eax; ret
    vm.write(internal, Uint8Array.from(code));
    for (const name of names) {
      const at = kernel.symbol(name, 0x80);
      // KeSetTimer (Timer, DueTime, Dpc): the Dpc moves to r9, Period 0.
      const prologue = name === 'KeSetTimer' ? [0x4d, 0x89, 0xc1, 0x45, 0x31, 0xc0] : [];
      const jump = at + BigInt(prologue.length) + 5n;
      vm.write(at, Uint8Array.from([...prologue, 0xe9, ...rip(internal, jump)]));
    }
  }
}
