// What the system was doing when the image was taken: processes (list and pool scan), their
// threads, and the IRPs in flight (pool scan and each thread's IrpList). Raw records; the
// analysis links them to devices, drivers and modules.

import type { StructureLayoutProvenance } from '../../common/model';
import type { KernelMemory } from '../kernel/memory';
import type { LayoutProfile } from '../profile';
import { walkList } from '../kernel/list-walk';
import { collectProcesses, type ProcessRecord } from './processes';
import { readIrp, type IrpRecord } from './irps';
import { readAnyThread, threadFields, walkThreads, type ThreadRecord } from './threads';

export { readFileObject, type IrpRecord, type StackLocationRecord } from './irps';
export type { ProcessRecord } from './processes';
export type { ThreadRecord } from './threads';

export interface ActivityRecords {
  processes: ProcessRecord[];
  /** PsActiveProcessHead was read to its end (a process off it is unlinked, not unknown). */
  processListComplete: boolean;
  threads: ThreadRecord[];
  irps: Array<IrpRecord & { foundBy: Set<'pool-scan' | 'thread-irp-list'> }>;
  /** Every problem met, in order (the analysis's warnings). */
  problems: string[];
  /** Why no process could be read at all; null when they were. */
  processesUnavailable: string | null;
  /** Problems with the process list (PsActiveProcessHead): processes may be missing. */
  processGaps: string[];
  /** Why no thread could be read at all; null when thread lists were read. */
  threadsUnavailable: string | null;
  /** Thread lists that could not be read to their end, or limits reached: threads may be missing. */
  threadGaps: string[];
  /** IrpLists that could not be read to their end, or limits reached: IRPs may be missing. */
  irpGaps: string[];
}

const MAX_IRPS_PER_THREAD = 4096;
const MAX_IRPS = 100_000;
/** Threads of the whole image: a live system has a few thousand; a crafted image no more than this. */
const MAX_THREADS = 200_000;
/** IrpList links followed over every thread together. */
const MAX_IRP_LINKS = 200_000;

/**
 * Why processes or threads cannot be read in this image (their layout could not be established);
 * null when they can.
 */
export interface ActivityLayouts {
  processes: string | null;
  threads: string | null;
}

/** What the established layouts (ImageInfo.layouts) allow to be read. */
export function activityLayoutsOf(
  layouts: readonly StructureLayoutProvenance[] | undefined,
): ActivityLayouts {
  const missing = (name: string) => {
    const found = layouts?.find((l) => l.structure === name);
    return found?.state === 'not-established'
      ? `the layout of ${name} could not be established: ${found.reason ?? 'no reason given'}`
      : null;
  };
  const processes = missing('_EPROCESS');
  return { processes, threads: processes ?? missing('_ETHREAD') };
}

export function readActivity(
  memory: KernelMemory,
  profile: LayoutProfile,
  layouts: ActivityLayouts,
  processListHead: bigint | null,
  scannedProcesses: readonly bigint[],
  scannedIrps: ReadonlyArray<{ va: bigint; room: number }>,
): ActivityRecords {
  const view =
    layouts.processes === null
      ? collectProcesses(memory, profile, processListHead, scannedProcesses)
      : { processes: new Map<bigint, ProcessRecord>(), problems: [], listComplete: false };
  const problems = [...view.problems];
  const threadGaps: string[] = [];
  const irpGaps: string[] = [];
  const threadsUnavailable = layouts.threads;
  const processes = [...view.processes.values()];
  const threads: ThreadRecord[] = [];
  const irps = new Map<bigint, ActivityRecords['irps'][number]>();
  const readThreads = threadsUnavailable === null;
  if (!readThreads) {
    problems.push(`threads are not shown: ${threadsUnavailable}`);
  } else {
    for (const process of processes) {
      if (threads.length >= MAX_THREADS) {
        const limit = `more than ${MAX_THREADS} threads: the thread lists of the remaining processes were not read`;
        problems.push(limit);
        threadGaps.push(limit);
        break;
      }
      const walk = walkThreads(memory, profile, process, MAX_THREADS - threads.length);
      problems.push(...walk.problems);
      threadGaps.push(...walk.problems);
      threads.push(...walk.threads);
    }
    // Each thread's IrpList: the requests it issued that are still in flight.
    const irpLinks = profile.field('_IRP', 'ThreadListEntry').offset;
    const fields = threadFields(profile);
    const irpList = fields.irpList;
    if (irpList === null)
      irpGaps.push('ETHREAD.IrpList could not be established: IRPs come from the pool scan only');
    let links = 0;
    for (const thread of irpList === null ? [] : threads) {
      if (links >= MAX_IRP_LINKS || irps.size >= MAX_IRPS) {
        const limit = `IrpLists longer than ${MAX_IRP_LINKS} links in all: the remaining threads' were not read`;
        problems.push(limit);
        irpGaps.push(limit);
        break;
      }
      const walk = walkList(
        memory,
        thread.va + BigInt(irpList!),
        irpLinks,
        Math.min(MAX_IRPS_PER_THREAD, MAX_IRP_LINKS - links),
        `thread ${thread.tid} IrpList`,
      );
      links += walk.records.length;
      problems.push(...walk.problems);
      irpGaps.push(...walk.problems);
      for (const va of walk.records) {
        if (irps.size >= MAX_IRPS) break;
        const irp = readIrp(memory, profile, va);
        if (irp) irps.set(va, { ...irp, foundBy: new Set(['thread-irp-list']) });
      }
    }
  }
  for (const { va, room } of scannedIrps) {
    if (irps.size >= MAX_IRPS) break;
    const known = irps.get(va);
    if (known) {
      known.foundBy.add('pool-scan');
      continue;
    }
    const irp = readIrp(memory, profile, va, room);
    if (irp) irps.set(va, { ...irp, foundBy: new Set(['pool-scan']) });
  }
  // An IRP's thread that no process list names (a hidden process's, or a terminated one's).
  if (readThreads) {
    const byPid = new Map(processes.map((p) => [p.pid, p]));
    const known = new Set(threads.map((t) => t.va));
    for (const irp of irps.values()) {
      if (irp.thread === 0n || known.has(irp.thread)) continue;
      const thread = readAnyThread(memory, profile, irp.thread, byPid);
      if (thread) {
        threads.push(thread);
        known.add(thread.va);
      }
    }
  }
  return {
    processes,
    processListComplete: view.listComplete,
    threads,
    irps: [...irps.values()],
    problems,
    processesUnavailable: layouts.processes,
    processGaps: view.problems,
    threadsUnavailable,
    threadGaps,
    irpGaps,
  };
}
