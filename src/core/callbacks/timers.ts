// Kernel timers and the DPCs they queue: each KTIMER on the timer tables (timer-tables.ts) whose
// DPC names a routine is an entry beside the callbacks, the routine judged like a notify routine.
// A timer is how code keeps running without a thread: a rootkit arms a periodic timer whose DPC
// routine sits in pool or in its unlinked module (Volatility's windows.timers lists them; the
// judging is ours).
//
// KTIMER and KDPC are in wdm.h (drivers allocate them), so their layout is the driver ABI:
// KTIMER { DISPATCHER_HEADER Header; ULARGE_INTEGER DueTime; LIST_ENTRY TimerListEntry; PKDPC Dpc;
// [x64 Windows 7 on: ULONG Processor;] LONG Period } — x86 DueTime @0x10, TimerListEntry @0x18,
// Dpc @0x20, Period @0x24; x64 @0x18, @0x20, @0x30, Period @0x3C (@0x38 before Windows 7) — and
// KDPC { Type; Importance; Number; DpcListEntry; DeferredRoutine; DeferredContext; … } with
// DeferredRoutine @0xC / DeferredContext @0x10 on x86, @0x18 / @0x20 on x64 (every ISF in
// ../shared/isf; ntdiff/headers Win7 SP1 x86). A symbol file's offsets are used when it has them.

import { hex } from '../../common/hex';
import type { Callback, CallbackHead } from '../../common/model';
import type { KernelMemory } from '../kernel/memory';
import type { PeImage } from '../kernel/pe';
import type { LayoutProfile } from '../profile';
import type { HandlerJudge } from '../verdicts/handlers';
import type { ModuleSet } from '../verdicts/module-set';
import { walkList } from '../kernel/list-walk';
import { dpcDecoding, isDpc, type DpcDecoding, type DpcFields, type StoredDpc } from './timer-dpc';
import { findTimerTables, type TimerTable } from './timer-tables';
import type { ProcessorList } from './processors';

/** Far above the timers of any one table entry's list on a real system; a crafted ring stops here. */
const MAX_TIMERS_PER_LIST = 2048;
/** Far above the timers of a real system (a busy server has a few thousand). */
const MAX_TIMERS = 32768;
const SAMPLE_TIMERS = 64;
const TIMER_TYPES = new Set([8, 9]);

export interface TimerInputs {
  memory: KernelMemory;
  pe: PeImage;
  exports: ReadonlyMap<string, number>;
  profile: LayoutProfile | null;
  build: number | null;
  processors: ProcessorList;
  modules: ModuleSet;
  judge: HandlerJudge;
}

interface TimerFields {
  link: number;
  dpc: number;
  period: number;
}

interface FoundTimer {
  table: TimerTable;
  index: number;
  va: bigint;
  stored: bigint;
  period: number;
}

function field(profile: LayoutProfile | null, struct: string, name: string, fallback: number): number {
  return profile?.hasField(struct, name) ? profile.field(struct, name).offset : fallback;
}

function timerFields(profile: LayoutProfile | null, pointerSize: 4 | 8, build: number | null): TimerFields {
  const x64 = pointerSize === 8;
  return {
    link: field(profile, '_KTIMER', 'TimerListEntry', x64 ? 0x20 : 0x18),
    dpc: field(profile, '_KTIMER', 'Dpc', x64 ? 0x30 : 0x20),
    period: field(profile, '_KTIMER', 'Period', x64 ? (build !== null && build < 7600 ? 0x38 : 0x3c) : 0x24),
  };
}

function dpcFields(profile: LayoutProfile | null, pointerSize: 4 | 8): DpcFields & { context: number } {
  const x64 = pointerSize === 8;
  return {
    routine: field(profile, '_KDPC', 'DeferredRoutine', x64 ? 0x18 : 0xc),
    context: field(profile, '_KDPC', 'DeferredContext', x64 ? 0x20 : 0x10),
    size: x64 ? 0x40 : 0x20,
  };
}

/** Every timer on the tables' lists, each list bounded and loop-guarded. */
function collectTimers(
  memory: KernelMemory,
  tables: readonly TimerTable[],
  fields: TimerFields,
): { timers: FoundTimer[]; problems: string[] } {
  const timers: FoundTimer[] = [];
  const problems: string[] = [];
  const seen = new Set<bigint>();
  for (const table of tables) {
    const where = table.processor === null ? 'the timer table' : `processor ${table.processor}'s timer table`;
    for (let index = 0; index < table.count; index++) {
      const head = table.first + BigInt(index * table.stride);
      const walk = walkList(memory, head, fields.link, MAX_TIMERS_PER_LIST, `${where}, entry ${index},`);
      problems.push(...walk.problems);
      for (const va of walk.records) {
        if (timers.length >= MAX_TIMERS) {
          problems.push(`more than ${MAX_TIMERS} timers: the rest were not read`);
          return { timers, problems };
        }
        if (seen.has(va)) continue;
        seen.add(va);
        const type = memory.bytes(va, 1)?.[0];
        if (type === undefined || !TIMER_TYPES.has(type)) {
          problems.push(`${where}, entry ${index}: ${hex(va)} is not a timer (Type ${type ?? 'unreadable'})`);
          continue;
        }
        const stored = memory.ptr(va + BigInt(fields.dpc));
        const period = memory.u32(va + BigInt(fields.period));
        if (stored === null || period === null) {
          problems.push(`${where}, entry ${index}: the timer at ${hex(va)} is not in the image`);
          continue;
        }
        timers.push({ table, index, va, stored, period });
      }
    }
  }
  return { timers, problems };
}

function unavailable(why: string): { head: CallbackHead; entries: Callback[]; warnings: string[] } {
  return {
    head: { kind: 'timer', address: null, method: null, coverage: { state: 'unavailable', missing: [why] } },
    entries: [],
    warnings: [why],
  };
}

function entryOf(
  inputs: TimerInputs,
  timer: FoundTimer,
  decoding: DpcDecoding,
  fields: DpcFields & { context: number },
): Callback | string | null {
  const { memory } = inputs;
  const dpc = decoding.decode(timer.va, timer.stored);
  if (dpc === 0n) return null;
  if (!isDpc(memory, dpc, fields))
    return `the timer at ${hex(timer.va)}: its DPC ${hex(dpc)} does not read as a DPC object`;
  const routine = memory.ptr(dpc + BigInt(fields.routine))!;
  const context = memory.ptr(dpc + BigInt(fields.context));
  const holder = inputs.modules.owner(routine);
  const name = `timer DPC (KTIMER ${hex(timer.va)})`;
  return {
    kind: 'timer',
    slot: timer.index,
    entry: hex(timer.va),
    block: hex(dpc),
    routine: inputs.judge.judge(routine, holder, timer.index, name, false),
    owner: holder?.name ?? null,
    context: context === null ? null : hex(context),
    component: null,
    device: null,
    driver: null,
    ...(timer.table.processor !== null ? { processor: timer.table.processor } : {}),
    period: timer.period,
  };
}

/** The timers whose DPC names a routine, on every timer table of the kernel. */
export function readTimers(inputs: TimerInputs): {
  head: CallbackHead;
  entries: Callback[];
  warnings: string[];
} {
  const { memory, profile } = inputs;
  const fields = timerFields(profile, memory.pointerSize, inputs.build);
  const found = findTimerTables({ ...inputs, timerLink: fields.link });
  if (found.tables.length === 0)
    return unavailable(
      `the timer tables were not found: ${found.problems.join('; ') || 'no processor was found'}`,
    );
  const { timers, problems } = collectTimers(memory, found.tables, fields);
  const dpc = dpcFields(profile, memory.pointerSize);
  const samples: StoredDpc[] = timers.slice(0, SAMPLE_TIMERS).map((t) => ({ timer: t.va, stored: t.stored }));
  const decoding = dpcDecoding(memory, inputs.pe, inputs.exports, profile, samples, dpc);
  const missing = [...found.problems, ...problems];
  const entries: Callback[] = [];
  if (typeof decoding === 'string') missing.push(decoding);
  else
    for (const timer of timers) {
      const entry = entryOf(inputs, timer, decoding, dpc);
      if (typeof entry === 'string') missing.push(entry);
      else if (entry) entries.push(entry);
    }
  const method = `${found.method}; ${timers.length} timers, DPC pointers ${typeof decoding === 'string' ? 'not decoded' : decoding.method}`;
  return {
    head: {
      kind: 'timer',
      address: found.address === null ? null : hex(found.address),
      method,
      coverage: {
        state: typeof decoding === 'string' ? 'unavailable' : missing.length > 0 ? 'partial' : 'complete',
        missing,
      },
    },
    entries,
    warnings: missing,
  };
}
