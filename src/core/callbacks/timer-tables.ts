// Where the kernel keeps its timers: the list heads of the timer table, each a LIST_ENTRY ring of
// KTIMERs by their TimerListEntry. From Windows 7 each processor has its own table in its KPRCB
// (KPRCB.TimerTable.TimerEntries: 256 KTIMER_TABLE_ENTRY { Lock; LIST_ENTRY Entry; Time }, 2 × 256
// from Windows 10, whose ISFs say TimerEntries[2][256]); before it one global KiTimerTableListHead:
// 256 LIST_ENTRYs on XP x86 and Server 2003 SP0, 512 KTIMER_TABLE_ENTRY { LIST_ENTRY Entry; Time }
// on Server 2003 SP1 on, Vista and the x64 kernels of that time (Volatility 3
// plugins/windows/timers.py; the WRK's kernldat.c; Win7 SP1 x86 _KPRCB: TimerTable @0x1960,
// TimerExpiry[16] then TimerEntries @0x40, entries of 0x18 bytes — ntdiff/headers).
//
// Found, not assumed: the symbol file's offsets are taken only when every head they name reads as
// one, and otherwise (or with no symbol file) the KPRCB, or the kernel's data sections for the
// global table, are searched for a run of list heads at an entry's stride whose lists hold timers.

import { hex } from '../../common/hex';
import type { KernelMemory } from '../kernel/memory';
import type { PeImage } from '../kernel/pe';
import { IMAGE_SCN_MEM_EXECUTE } from '../kernel/pe';
import type { LayoutProfile } from '../profile';
import { rejectListHead } from './lists';
import type { Processor, ProcessorList } from './processors';

/** The KPRCB bytes searched for the table (the largest ISF's _KPRCB is below this). */
const PRCB_SEARCH_BYTES = 0x10000;
const TIMER_NOTIFICATION = 8;
const TIMER_SYNCHRONIZATION = 9;
/** Records read per list while a candidate table is checked. */
const CHECK_RECORDS = 4;

export interface TimerTable {
  /** The processor whose KPRCB holds it; null for the global KiTimerTableListHead. */
  processor: number | null;
  /** The first entry's LIST_ENTRY. */
  first: bigint;
  count: number;
  /** Bytes from one entry's LIST_ENTRY to the next. */
  stride: number;
}

export interface TimerTables {
  tables: TimerTable[];
  /** The first table's address, how the tables were found. */
  address: bigint | null;
  method: string | null;
  problems: string[];
}

/** One way the table can be laid out: the stride of its entries and how many (run first). */
interface TableShape {
  stride: number;
  counts: readonly number[];
}

export interface TimerTableInputs {
  memory: KernelMemory;
  pe: PeImage;
  profile: LayoutProfile | null;
  build: number | null;
  processors: ProcessorList;
  /** KTIMER.TimerListEntry: a record on a list is the link less this. */
  timerLink: number;
}

function perProcessorShape(pointerSize: 4 | 8): TableShape {
  // KTIMER_TABLE_ENTRY { ULONG_PTR Lock; LIST_ENTRY Entry; ULARGE_INTEGER Time }.
  return { stride: pointerSize === 8 ? 0x20 : 0x18, counts: [512, 256] };
}

function globalShapes(pointerSize: 4 | 8, build: number | null): TableShape[] {
  if (pointerSize === 8) return [{ stride: 0x18, counts: [512] }];
  const listEntries: TableShape = { stride: 8, counts: [256] };
  const tableEntries: TableShape = { stride: 0x10, counts: [512] };
  return build !== null && build < 3790 ? [listEntries, tableEntries] : [tableEntries, listEntries];
}

/** Of the first few records on the list at `head`, how many are timers and how many are not. */
function timersOn(memory: KernelMemory, head: bigint, timerLink: number): { timers: number; others: number } {
  let timers = 0;
  let others = 0;
  let link = memory.ptr(head);
  for (let n = 0; n < CHECK_RECORDS && link !== null && link !== head; n++) {
    const type = memory.bytes(link - BigInt(timerLink), 1)?.[0];
    if (type === TIMER_NOTIFICATION || type === TIMER_SYNCHRONIZATION) timers++;
    else others++;
    link = memory.ptr(link);
  }
  return { timers, others };
}

/** Why `count` heads from `first` are not a timer table, or null when they are. */
function rejectTable(
  memory: KernelMemory,
  first: bigint,
  count: number,
  stride: number,
  timerLink: number,
): string | null {
  let timers = 0;
  let others = 0;
  for (let index = 0; index < count; index++) {
    const head = first + BigInt(index * stride);
    const rejected = rejectListHead(memory, head);
    if (rejected !== null) return `entry ${index}: ${rejected}`;
    const found = timersOn(memory, head, timerLink);
    timers += found.timers;
    others += found.others;
  }
  if (timers === 0) return 'no list holds a timer';
  // A few records a crafted image corrupted are that list's problem; a table of other objects is not one.
  if (others * 10 > timers) return `${others} of its records are not timers`;
  return null;
}

/**
 * A cheap look at each slot of `bytes` (read from `base`): an empty list (it points at itself) or
 * two kernel pointers. Dwords, not BigInts: the search looks at every pointer of a KPRCB.
 */
function headLooks(pointerSize: 4 | 8, bytes: Uint8Array, base: bigint): (at: number) => boolean {
  const words = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + (bytes.length & ~3)));
  const baseLow = Number(base & 0xffffffffn);
  const baseHigh = Number((base >> 32n) & 0xffffffffn);
  if (pointerSize === 4)
    return (at) => {
      const i = at >> 2;
      if (i + 1 >= words.length) return false;
      const self = (baseLow + at) >>> 0;
      const flink = words[i]!;
      const blink = words[i + 1]!;
      return (flink === self && blink === self) || (flink >= 0x80000000 && blink >= 0x80000000);
    };
  return (at) => {
    const i = at >> 2;
    if (i + 3 >= words.length) return false;
    const sum = baseLow + at;
    const selfLow = sum >>> 0;
    const selfHigh = (baseHigh + Math.floor(sum / 0x100000000)) >>> 0;
    const [fl, fh, bl, bh] = [words[i]!, words[i + 1]!, words[i + 2]!, words[i + 3]!];
    if (fl === selfLow && fh === selfHigh && bl === selfLow && bh === selfHigh) return true;
    return fh >= 0xffff8000 && bh >= 0xffff8000;
  };
}

/** The first run of `shape` in `bytes` (read from `base`) that is a timer table: its first head and count. */
function searchRun(
  memory: KernelMemory,
  bytes: Uint8Array,
  base: bigint,
  shape: TableShape,
  timerLink: number,
): { first: bigint; count: number } | null {
  const looksLikeHead = headLooks(memory.pointerSize, bytes, base);
  const p = memory.pointerSize;
  const least = Math.min(...shape.counts);
  for (let residue = 0; residue < shape.stride; residue += p) {
    let run = 0;
    for (let at = residue; at + 2 * p <= bytes.length; at += shape.stride) {
      run = looksLikeHead(at) ? run + 1 : 0;
      if (run < least) continue;
      const start = at - (least - 1) * shape.stride;
      for (const count of shape.counts) {
        if (start + count * shape.stride > bytes.length) continue;
        const first = base + BigInt(start);
        if (rejectTable(memory, first, count, shape.stride, timerLink) === null) return { first, count };
      }
      // Not a table from `start` (pointers before a table also pass the cheap look): slide on.
    }
  }
  return null;
}

function symbolTable(inputs: TimerTableInputs, processor: Processor): TimerTable | string | null {
  const { profile, memory } = inputs;
  if (!profile?.hasField('_KPRCB', 'TimerTable') || !profile.hasField('_KTIMER_TABLE', 'TimerEntries'))
    return null;
  const entries = profile.field('_KTIMER_TABLE', 'TimerEntries');
  const stride = profile.sizeOf('_KTIMER_TABLE_ENTRY');
  const link = profile.field('_KTIMER_TABLE_ENTRY', 'Entry').offset;
  const count = Math.floor(entries.size / stride);
  const first = processor.prcb + BigInt(profile.field('_KPRCB', 'TimerTable').offset + entries.offset + link);
  const rejected = rejectTable(memory, first, count, stride, inputs.timerLink);
  return rejected === null ? { processor: processor.number, first, count, stride } : rejected;
}

function searchedTable(inputs: TimerTableInputs, processor: Processor): TimerTable | null {
  const { memory } = inputs;
  const bytes = memory.scanBytes(processor.prcb, PRCB_SEARCH_BYTES);
  const shape = perProcessorShape(memory.pointerSize);
  // The search runs over the list heads themselves: Entry sits one pointer into each entry.
  const run = searchRun(memory, bytes, processor.prcb, shape, inputs.timerLink);
  return run
    ? { processor: processor.number, first: run.first, count: run.count, stride: shape.stride }
    : null;
}

function perProcessorTables(inputs: TimerTableInputs): TimerTables {
  const list = inputs.processors;
  const tables: TimerTable[] = [];
  const problems = [...list.problems];
  const methods = new Set<string>();
  for (const processor of list.processors) {
    const fromSymbols = symbolTable(inputs, processor);
    if (fromSymbols !== null && typeof fromSymbols !== 'string') {
      tables.push(fromSymbols);
      methods.add('symbol file: _KPRCB.TimerTable');
      continue;
    }
    const searched = searchedTable(inputs, processor);
    if (searched) {
      tables.push(searched);
      methods.add(`found by structure: KPRCB+${hex(searched.first - processor.prcb)}`);
      if (typeof fromSymbols === 'string')
        problems.push(
          `processor ${processor.number}: the symbol file's timer table was rejected (${fromSymbols})`,
        );
    } else
      problems.push(
        `processor ${processor.number}: no timer table in its KPRCB at ${hex(processor.prcb)}${typeof fromSymbols === 'string' ? ` (the symbol file's was rejected: ${fromSymbols})` : ''}`,
      );
  }
  return {
    tables,
    address: tables[0]?.first ?? null,
    method: tables.length > 0 ? `${[...methods].join('; ')}, ${tables.length} processor(s)` : null,
    problems,
  };
}

function dataSections(pe: PeImage): Array<{ va: bigint; size: number }> {
  return pe.sections
    .filter((s) => (s.characteristics & IMAGE_SCN_MEM_EXECUTE) === 0 && s.size > 0)
    .map((s) => ({ va: pe.base + BigInt(s.rva), size: s.size }));
}

function globalTable(inputs: TimerTableInputs): TimerTables {
  const { memory, pe, profile, build } = inputs;
  const shapes = globalShapes(memory.pointerSize, build);
  const tried: string[] = [];
  const symbol = profile?.symbol('KiTimerTableListHead');
  if (symbol !== undefined) {
    const first = pe.base + BigInt(symbol);
    for (const shape of shapes)
      for (const count of shape.counts) {
        const rejected = rejectTable(memory, first, count, shape.stride, inputs.timerLink);
        if (rejected === null)
          return {
            tables: [{ processor: null, first, count, stride: shape.stride }],
            address: first,
            method: 'symbol file: KiTimerTableListHead',
            problems: [],
          };
        tried.push(`the symbol file's KiTimerTableListHead: ${rejected}`);
      }
  }
  for (const section of dataSections(pe)) {
    const bytes = memory.scanBytes(section.va, section.size);
    for (const shape of shapes) {
      const run = searchRun(memory, bytes, section.va, shape, inputs.timerLink);
      if (run)
        return {
          tables: [{ processor: null, first: run.first, count: run.count, stride: shape.stride }],
          address: run.first,
          method: `found by structure: ${run.count} list heads of timers in the kernel's data at ${hex(run.first)}`,
          problems: tried,
        };
    }
  }
  return {
    tables: [],
    address: null,
    method: null,
    problems: [...tried, 'no run of timer list heads in the kernel’s data sections'],
  };
}

/** The timer tables: per processor from Windows 7 (build 7600), else the global one. */
export function findTimerTables(inputs: TimerTableInputs): TimerTables {
  const { build } = inputs;
  if (build !== null && build < 7600) return globalTable(inputs);
  const perProcessor = perProcessorTables(inputs);
  if (perProcessor.tables.length > 0 || build !== null) return perProcessor;
  const global = globalTable(inputs);
  return global.tables.length > 0 ? global : perProcessor;
}
