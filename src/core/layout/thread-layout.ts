// ETHREAD (and EPROCESS.ThreadListHead), established in this image. Anchors: the processes the
// EPROCESS layout already reads, and what a thread must be: every entry of a process's thread list
// is a thread object (DISPATCHER_HEADER.Type 6, KOBJECTS ThreadObject) whose Cid.UniqueProcess is
// that process's PID (PsGetThreadProcessId and PsGetThreadId read Cid: their code gives its
// offset). Start addresses: a System thread starts in kernel code, distinct threads at distinct
// routines; IrpList: every thread's list is empty or holds IRPs (Type 6) whose
// Tail.Overlay.Thread is that thread. Fields the table places are searched outwards from where
// the table, moved as much as Cid moved, puts them.

import { hex } from '../../common/hex';
import type { KernelMemory } from '../kernel/memory';
import { walkList } from '../kernel/list-walk';
import type { LayoutProfile } from '../profile';
import type { AccessorRead } from './accessors';
import { candidates, establish, type Candidate, type Established } from './offsets';
import type { ProcessSample } from './process-layout';

export interface ThreadLayout {
  /** EPROCESS.ThreadListHead and the ETHREAD LIST_ENTRY it links (or KPROCESS's and KTHREAD's). */
  threadListHead: Established;
  threadListEntry: Established;
  /** Cid: CLIENT_ID { UniqueProcess, UniqueThread }. */
  cid: Established;
  startAddress: Established | null;
  win32StartAddress: Established | null;
  irpList: Established | null;
}

export interface ThreadLayoutInput {
  memory: KernelMemory;
  hint: LayoutProfile;
  code: ReadonlyMap<string, AccessorRead>;
  processes: readonly ProcessSample[];
  system: bigint;
  /** Whether an address is inside a loaded kernel module. */
  inModule: (address: bigint) => boolean;
}

export type ThreadLayoutResult = { ok: true; layout: ThreadLayout } | { ok: false; reason: string };

const THREAD_OBJECT = 6;
const IRP_TYPE = 6;
const SEARCH_END = 0x1000;
const MAX_PROCESSES = 16;
const MAX_THREADS = 2000;
const THREADS_PER_PROCESS = 64;

interface Thread {
  va: bigint;
  pid: number;
  system: boolean;
  bytes: Uint8Array;
}

export function establishThreadLayout(input: ThreadLayoutInput): ThreadLayoutResult {
  const { memory, hint, code } = input;
  const ps = memory.pointerSize;
  const tableCid = hint.field('_ETHREAD', 'Cid').offset + hint.field('_CLIENT_ID', 'UniqueProcess').offset;
  const fromProcessId = code.get('PsGetThreadProcessId');
  const fromThreadId = code.get('PsGetThreadId');
  const codeCid: Candidate | null = fromProcessId
    ? {
        offset: fromProcessId.offset,
        method: 'kernel-code',
        source: `PsGetThreadProcessId: ${fromProcessId.instruction}`,
      }
    : fromThreadId
      ? {
          offset: fromThreadId.offset - ps,
          method: 'kernel-code',
          source: `PsGetThreadId: ${fromThreadId.instruction}`,
        }
      : null;
  const lists = processesWithThreads(memory, input.processes, hint);
  if (lists.samples.length === 0)
    return { ok: false, reason: 'no process has a thread list that can be read' };

  // The thread list and Cid together: each list's first entry, less ThreadListEntry, is a thread
  // object of that process.
  let entry: { offset: number; cid: number } | null = null;
  const tableHead = hint.field('_EPROCESS', 'ThreadListHead').offset;
  const threadListHead = establish(
    candidates([{ offset: tableHead, method: 'table', source: 'the table' }], {
      from: 0,
      to: SEARCH_END,
      step: ps,
      near: tableHead,
    }),
    (head) => {
      entry = findEntry(memory, lists.samples, head, codeCid?.offset ?? null, tableCid, hint);
      return entry
        ? `the first entry of ${lists.samples.length} processes' lists there is a thread object of that process`
        : null;
    },
  );
  const found = entry as { offset: number; cid: number } | null;
  if (!threadListHead || !found)
    return { ok: false, reason: "no thread list whose entries are the process's threads was found" };
  const tableEntry = hint.field('_ETHREAD', 'ThreadListEntry').offset;
  const threadListEntry: Established = {
    offset: found.offset,
    method: found.offset === tableEntry ? 'table-checked' : 'structure',
    detail: `${hex(found.offset)}: ${found.offset === tableEntry ? 'the table; ' : ''}each list's entries, less this, are thread objects whose Cid names the process`,
  };
  const cid: Established =
    codeCid && codeCid.offset === found.cid
      ? {
          offset: found.cid,
          method: 'kernel-code',
          detail: `${hex(found.cid)}: ${codeCid.source}; names each thread's process`,
        }
      : {
          offset: found.cid,
          method: found.cid === tableCid ? 'table-checked' : 'structure',
          detail: `${hex(found.cid)}: ${found.cid === tableCid ? 'the table; ' : ''}names the process of every thread on its list`,
        };

  const shift = found.cid - tableCid;
  const threads = readThreads(memory, lists.samples, threadListHead.offset, found.offset, input.system);
  const near = (field: string) => hint.field('_ETHREAD', field).offset + shift;
  const starts = establishStarts(
    threads,
    near('StartAddress'),
    near('Win32StartAddress'),
    input.inModule,
    memory,
    found.cid,
  );
  const irpList = establishIrpList(memory, hint, threads, near('IrpList'));
  return {
    ok: true,
    layout: {
      threadListHead,
      threadListEntry,
      cid,
      startAddress: starts.start,
      win32StartAddress: starts.win32,
      irpList,
    },
  };
}

interface ListSample {
  process: ProcessSample;
}

function processesWithThreads(
  memory: KernelMemory,
  processes: readonly ProcessSample[],
  hint: LayoutProfile,
): { samples: ListSample[] } {
  void hint;
  void memory;
  return { samples: processes.slice(0, 4 * MAX_PROCESSES).map((process) => ({ process })) };
}

/**
 * With the list head at `head`: the ThreadListEntry offset (and Cid's) that make the first entry
 * of every sampled process's list a thread object of that process; null when none does.
 */
function findEntry(
  memory: KernelMemory,
  samples: ListSample[],
  head: number,
  codeCid: number | null,
  tableCid: number,
  hint: LayoutProfile,
): { offset: number; cid: number } | null {
  const ps = memory.pointerSize;
  const firsts: Array<{ first: bigint; pid: number }> = [];
  for (const { process } of samples) {
    const at = process.va + BigInt(head);
    const first = memory.ptr(at);
    if (first === null || first === at || !memory.isKernelAddress(first)) continue;
    if (memory.ptr(first + BigInt(ps)) !== at) return null; // not a LIST_ENTRY
    firsts.push({ first, pid: process.pid });
    if (firsts.length >= MAX_PROCESSES) break;
  }
  // A list shared by System and at least one other process, so PIDs differ between samples.
  if (firsts.length < Math.min(2, samples.length)) return null;
  const tableEntry = hint.field('_ETHREAD', 'ThreadListEntry').offset;
  // Entry offsets by distance from where the table puts it (moved as much as Cid moved, when the
  // code says where Cid is); each is accepted when every first entry, less it, is a thread object
  // whose Cid (from the code, else found near where the table puts it) names the process.
  const shift = codeCid === null ? 0 : codeCid - tableCid;
  for (const candidate of candidates([], {
    from: 0,
    to: SEARCH_END * 2,
    step: ps,
    near: tableEntry + shift,
  })) {
    const offset = candidate.offset;
    const threads = firsts.map(({ first, pid }) => ({ thread: first - BigInt(offset), pid }));
    if (!threads.every(({ thread }) => memory.bytes(thread, 1)?.[0] === THREAD_OBJECT)) continue;
    const cidCandidates =
      codeCid !== null
        ? [codeCid]
        : [
            ...candidates([], {
              from: 0,
              to: SEARCH_END * 2,
              step: ps,
              near: tableCid + (offset - tableEntry),
            }),
          ].map((c) => c.offset);
    for (const cid of cidCandidates)
      if (threads.every(({ thread, pid }) => isThreadOf(memory, thread, cid, pid))) return { offset, cid };
  }
  return null;
}

function isThreadOf(memory: KernelMemory, thread: bigint, cid: number, pid: number): boolean {
  if (memory.bytes(thread, 1)?.[0] !== THREAD_OBJECT) return false;
  if (memory.ptr(thread + BigInt(cid)) !== BigInt(pid)) return false;
  const tid = memory.ptr(thread + BigInt(cid + memory.pointerSize));
  return tid !== null && tid !== 0n && tid % 4n === 0n && tid < 0x1_0000_0000n;
}

function readThreads(
  memory: KernelMemory,
  samples: ListSample[],
  head: number,
  entry: number,
  system: bigint,
): Thread[] {
  const threads: Thread[] = [];
  for (const { process } of samples) {
    const walk = walkList(memory, process.va + BigInt(head), entry, THREADS_PER_PROCESS, 'thread list');
    for (const va of walk.records) {
      const bytes = memory.bytes(va, SEARCH_END + 2 * memory.pointerSize) ?? memory.bytes(va, SEARCH_END / 2);
      if (bytes) threads.push({ va, pid: process.pid, system: process.va === system, bytes });
      if (threads.length >= MAX_THREADS) return threads;
    }
  }
  return threads;
}

function pointerAt(thread: Thread, offset: number, ps: 4 | 8): bigint | null {
  if (offset < 0 || offset + ps > thread.bytes.length) return null;
  const view = new DataView(thread.bytes.buffer, thread.bytes.byteOffset, thread.bytes.byteLength);
  return ps === 8 ? view.getBigUint64(offset, true) : BigInt(view.getUint32(offset, true));
}

/**
 * StartAddress and Win32StartAddress: offsets where every System thread holds a kernel address,
 * most of them inside modules and not all the same (a routine per thread, unlike a pointer every
 * thread shares), and every other thread a non-zero one. StartAddress precedes Win32StartAddress.
 */
function establishStarts(
  threads: Thread[],
  nearStart: number,
  nearWin32: number,
  inModule: (address: bigint) => boolean,
  memory: KernelMemory,
  cid: number,
): { start: Established | null; win32: Established | null } {
  const ps = memory.pointerSize;
  const system = threads.filter((t) => t.system);
  const others = threads.filter((t) => !t.system);
  if (system.length === 0) return { start: null, win32: null };
  const fits = (offset: number): boolean => {
    if (offset >= cid && offset < cid + 2 * ps) return false;
    const values = system.map((t) => pointerAt(t, offset, ps));
    if (values.some((v) => v === null || !memory.isKernelAddress(v))) return false;
    if (values.filter((v) => inModule(v!)).length < Math.ceil(values.length * 0.6)) return false;
    if (values.length >= 3 && new Set(values).size < 2) return false;
    return others.every((t) => {
      const v = pointerAt(t, offset, ps);
      return v !== null && v !== 0n;
    });
  };
  const span = 0x100;
  const from = Math.max(0, Math.min(nearStart, nearWin32) - span);
  const to = Math.max(nearStart, nearWin32) + span;
  const found: number[] = [];
  for (let offset = from - (from % ps); offset < to; offset += ps) if (fits(offset)) found.push(offset);
  if (found.length === 0) return { start: null, win32: null };
  const nearest = (near: number, among: number[]) =>
    among.reduce((best, o) => (Math.abs(o - near) < Math.abs(best - near) ? o : best));
  const start = nearest(nearStart, found);
  const later = found.filter((o) => o > start);
  const win32 = later.length ? nearest(nearWin32, later) : null;
  const describe = (offset: number, table: number): Established => ({
    offset,
    method: offset === table ? 'table-checked' : 'structure',
    detail: `${hex(offset)}: ${offset === table ? 'the table; ' : ''}every System thread holds kernel code there (${system.length} threads), every other thread a start address`,
  });
  return {
    start: describe(start, nearStart),
    win32: win32 === null ? null : describe(win32, nearWin32),
  };
}

/**
 * IrpList: an offset where every thread's LIST_ENTRY is empty (pointing at itself) or holds IRPs
 * whose Tail.Overlay.Thread is that thread; the one most threads' IRPs confirm, else the nearest
 * to where the table puts it.
 */
function establishIrpList(
  memory: KernelMemory,
  hint: LayoutProfile,
  threads: Thread[],
  near: number,
): Established | null {
  const ps = memory.pointerSize;
  const irpLinks = BigInt(hint.field('_IRP', 'ThreadListEntry').offset);
  const irpThread = BigInt(hint.field('_IRP', 'Tail').offset + 4 * ps);
  const judge = (offset: number): { valid: boolean; confirmed: number } => {
    let confirmed = 0;
    for (const thread of threads) {
      const head = thread.va + BigInt(offset);
      const flink = pointerAt(thread, offset, ps);
      const blink = pointerAt(thread, offset + ps, ps);
      if (flink === null || blink === null) return { valid: false, confirmed };
      if (flink === head && blink === head) continue;
      if (!memory.isKernelAddress(flink) || memory.ptr(flink + BigInt(ps)) !== head)
        return { valid: false, confirmed };
      const irp = flink - irpLinks;
      if (memory.u16(irp) !== IRP_TYPE || memory.ptr(irp + irpThread) !== thread.va)
        return { valid: false, confirmed };
      confirmed++;
    }
    return { valid: true, confirmed };
  };
  let best: { offset: number; confirmed: number } | null = null;
  const span = 0x100;
  for (const candidate of candidates([], {
    from: Math.max(0, near - span),
    to: near + span,
    step: ps,
    near,
  })) {
    const verdict = judge(candidate.offset);
    if (!verdict.valid) continue;
    if (best === null || verdict.confirmed > best.confirmed)
      best = { offset: candidate.offset, confirmed: verdict.confirmed };
  }
  if (best === null) return null;
  const table = hint.field('_ETHREAD', 'IrpList').offset;
  return {
    offset: best.offset,
    method: best.confirmed > 0 ? 'structure' : best.offset === table ? 'table-checked' : 'structure',
    detail:
      best.confirmed > 0
        ? `${hex(best.offset)}: ${best.confirmed} thread${best.confirmed === 1 ? "'s" : "s'"} list there holds IRPs issued by that thread; every other thread's is empty`
        : `${hex(best.offset)}: ${best.offset === table ? 'the table; ' : "nearest to the table's offset where "}every thread's list there is empty (no IRP in flight confirms it)`,
  };
}
