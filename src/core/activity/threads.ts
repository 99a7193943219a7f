// Threads (ETHREAD on EPROCESS.ThreadListHead): enough to name who issued a request — TID, start
// address, and the IRPs queued on the thread. ETHREAD's fields after the KTHREAD move together
// whenever KTHREAD grows, even between updates of one build (7601: +8 from the .24000 updates),
// so a table's offsets are checked against each thread's Cid and, when they do not hold, the
// shift that makes Cid name the owning process is searched (bounded, as MemProcFS locates
// EPROCESS offsets by what the fields must hold).

import type { KernelMemory } from '../kernel/memory';
import type { LayoutProfile } from '../profile';
import { walkList } from './list-walk';
import type { ProcessRecord } from './processes';

export interface ThreadRecord {
  va: bigint;
  tid: number;
  pid: number;
  process: bigint;
  startAddress: bigint;
  win32StartAddress: bigint;
}

export interface ThreadOffsets {
  /** Added to every ETHREAD field offset of the table. */
  shift: number;
}

const MAX_THREADS_PER_PROCESS = 16_384;
const MAX_SHIFT = 0x40;

interface Fields {
  cid: number;
  uniqueProcess: number;
  uniqueThread: number;
  listEntry: number;
  start: number;
  win32Start: number;
  irpList: number;
}

export function threadFields(profile: LayoutProfile, shift: number): Fields {
  const f = (name: string) => profile.field('_ETHREAD', name).offset + shift;
  const cid = f('Cid');
  return {
    cid,
    uniqueProcess: cid + profile.field('_CLIENT_ID', 'UniqueProcess').offset,
    uniqueThread: cid + profile.field('_CLIENT_ID', 'UniqueThread').offset,
    listEntry: f('ThreadListEntry'),
    start: f('StartAddress'),
    win32Start: f('Win32StartAddress'),
    irpList: f('IrpList'),
  };
}

function readThread(
  memory: KernelMemory,
  va: bigint,
  fields: Fields,
  process: ProcessRecord,
): ThreadRecord | null {
  const ptr = (offset: number) => memory.ptr(va + BigInt(offset));
  const pid = ptr(fields.uniqueProcess);
  const tid = ptr(fields.uniqueThread);
  if (pid === null || tid === null || pid !== BigInt(process.pid)) return null;
  if (tid === 0n || tid % 4n !== 0n || tid >= 0x1_0000_0000n) return null;
  return {
    va,
    tid: Number(tid),
    pid: process.pid,
    process: process.va,
    startAddress: ptr(fields.start) ?? 0n,
    win32StartAddress: ptr(fields.win32Start) ?? 0n,
  };
}

/**
 * The shift that makes the first threads of the processes read as theirs: 0 when the table
 * holds, else the smallest (by magnitude) that does; null when none does.
 */
export function locateThreadShift(
  memory: KernelMemory,
  profile: LayoutProfile,
  processes: readonly ProcessRecord[],
): number | null {
  const head = profile.field('_EPROCESS', 'ThreadListHead').offset;
  const samples: Array<{ link: bigint; process: ProcessRecord }> = [];
  for (const process of processes) {
    if (samples.length >= 6) break;
    const first = memory.ptr(process.va + BigInt(head));
    if (first !== null && first !== process.va + BigInt(head) && memory.isKernelAddress(first))
      samples.push({ link: first, process });
  }
  if (samples.length === 0) return null;
  const step = profile.pointerSize;
  const shifts = [0];
  for (let d = step; d <= MAX_SHIFT; d += step) shifts.push(d, -d);
  for (const shift of shifts) {
    const fields = threadFields(profile, shift);
    const agree = samples.filter((s) =>
      readThread(memory, s.link - BigInt(fields.listEntry), fields, s.process),
    );
    if (agree.length === samples.length || (samples.length >= 3 && agree.length >= samples.length - 1))
      return shift;
  }
  return null;
}

export function walkThreads(
  memory: KernelMemory,
  profile: LayoutProfile,
  process: ProcessRecord,
  shift: number,
  /** Threads still allowed in the whole image (a crafted one may chain millions). */
  budget = MAX_THREADS_PER_PROCESS,
): { threads: ThreadRecord[]; problems: string[] } {
  const fields = threadFields(profile, shift);
  const head = process.va + BigInt(profile.field('_EPROCESS', 'ThreadListHead').offset);
  const walk = walkList(
    memory,
    head,
    fields.listEntry,
    Math.min(MAX_THREADS_PER_PROCESS, budget),
    `${process.name} (${process.pid}) thread list`,
  );
  const threads: ThreadRecord[] = [];
  const problems = [...walk.problems];
  for (const va of walk.records) {
    const thread = readThread(memory, va, fields, process);
    if (thread) threads.push(thread);
    else
      problems.push(
        `${process.name} (${process.pid}): 0x${va.toString(16)} on its thread list is not one of its threads`,
      );
  }
  return { threads, problems };
}

/** The ETHREAD at `va` read with the located offsets, whoever owns it (for an IRP's Tail.Overlay.Thread). */
export function readAnyThread(
  memory: KernelMemory,
  profile: LayoutProfile,
  va: bigint,
  shift: number,
  processesByPid: ReadonlyMap<number, ProcessRecord>,
): ThreadRecord | null {
  const fields = threadFields(profile, shift);
  const pid = memory.ptr(va + BigInt(fields.uniqueProcess));
  if (pid === null || pid >= 0x1_0000_0000n) return null;
  const process = processesByPid.get(Number(pid));
  return process ? readThread(memory, va, fields, process) : null;
}
