// Threads (ETHREAD on EPROCESS.ThreadListHead): enough to name who issued a request — TID, start
// address, and the IRPs queued on the thread — read through the offsets established for this
// image (src/core/layout), never the table's guess.

import type { KernelMemory } from '../kernel/memory';
import type { LayoutProfile } from '../profile';
import { walkList } from '../kernel/list-walk';
import type { ProcessRecord } from './processes';

export interface ThreadRecord {
  va: bigint;
  tid: number;
  pid: number;
  process: bigint;
  startAddress: bigint;
  win32StartAddress: bigint;
}

const MAX_THREADS_PER_PROCESS = 16_384;

interface Fields {
  uniqueProcess: number;
  uniqueThread: number;
  listEntry: number;
  /** Null when the image's layout for it could not be established. */
  start: number | null;
  win32Start: number | null;
  irpList: number | null;
}

/** ETHREAD offsets as established for this image (src/core/layout): an absent field is null. */
export function threadFields(profile: LayoutProfile): Fields {
  const optional = (name: string) =>
    profile.hasField('_ETHREAD', name) ? profile.field('_ETHREAD', name).offset : null;
  const cid = profile.field('_ETHREAD', 'Cid').offset;
  return {
    uniqueProcess: cid + profile.field('_CLIENT_ID', 'UniqueProcess').offset,
    uniqueThread: cid + profile.field('_CLIENT_ID', 'UniqueThread').offset,
    listEntry: profile.field('_ETHREAD', 'ThreadListEntry').offset,
    start: optional('StartAddress'),
    win32Start: optional('Win32StartAddress'),
    irpList: optional('IrpList'),
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
    startAddress: (fields.start === null ? null : ptr(fields.start)) ?? 0n,
    win32StartAddress: (fields.win32Start === null ? null : ptr(fields.win32Start)) ?? 0n,
  };
}

export function walkThreads(
  memory: KernelMemory,
  profile: LayoutProfile,
  process: ProcessRecord,
  /** Threads still allowed in the whole image (a crafted one may chain millions). */
  budget = MAX_THREADS_PER_PROCESS,
): { threads: ThreadRecord[]; problems: string[] } {
  const fields = threadFields(profile);
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
  processesByPid: ReadonlyMap<number, ProcessRecord>,
): ThreadRecord | null {
  const fields = threadFields(profile);
  const pid = memory.ptr(va + BigInt(fields.uniqueProcess));
  if (pid === null || pid >= 0x1_0000_0000n) return null;
  const process = processesByPid.get(Number(pid));
  return process ? readThread(memory, va, fields, process) : null;
}
