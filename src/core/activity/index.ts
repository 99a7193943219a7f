// What the system was doing when the image was taken: processes (list and pool scan), their
// threads, and the IRPs in flight (pool scan and each thread's IrpList). Raw records; the
// analysis links them to devices, drivers and modules.

import type { KernelMemory } from '../kernel/memory';
import type { LayoutProfile } from '../profile';
import { walkList } from './list-walk';
import { collectProcesses, type ProcessRecord } from './processes';
import { readIrp, type IrpRecord } from './irps';
import { locateThreadShift, readAnyThread, threadFields, walkThreads, type ThreadRecord } from './threads';

export { readFileObject, type IrpRecord, type StackLocationRecord } from './irps';
export type { ProcessRecord } from './processes';
export type { ThreadRecord } from './threads';

export interface ActivityRecords {
  processes: ProcessRecord[];
  /** PsActiveProcessHead was read to its end (a process off it is unlinked, not unknown). */
  processListComplete: boolean;
  threads: ThreadRecord[];
  irps: Array<IrpRecord & { foundBy: Set<'pool-scan' | 'thread-irp-list'> }>;
  problems: string[];
}

const MAX_IRPS_PER_THREAD = 4096;
const MAX_IRPS = 100_000;
/** Threads of the whole image: a live system has a few thousand; a crafted image no more than this. */
const MAX_THREADS = 200_000;
/** IrpList links followed over every thread together. */
const MAX_IRP_LINKS = 200_000;

export function readActivity(
  memory: KernelMemory,
  profile: LayoutProfile,
  processListHead: bigint | null,
  scannedProcesses: readonly bigint[],
  scannedIrps: ReadonlyArray<{ va: bigint; room: number }>,
): ActivityRecords {
  const view = collectProcesses(memory, profile, processListHead, scannedProcesses);
  const problems = [...view.problems];
  const processes = [...view.processes.values()];
  const threads: ThreadRecord[] = [];
  const irps = new Map<bigint, ActivityRecords['irps'][number]>();
  const shift = locateThreadShift(memory, profile, processes);
  if (shift === null) {
    if (processes.length)
      problems.push('no thread list could be read with this profile: threads are not shown');
  } else {
    if (shift !== 0)
      problems.push(
        `ETHREAD fields sit ${shift > 0 ? '+' : '-'}0x${Math.abs(shift).toString(16)} from the profile's offsets (another update of this build); threads read with the shift`,
      );
    for (const process of processes) {
      if (threads.length >= MAX_THREADS) {
        problems.push(
          `more than ${MAX_THREADS} threads: the thread lists of the remaining processes were not read`,
        );
        break;
      }
      const walk = walkThreads(memory, profile, process, shift, MAX_THREADS - threads.length);
      problems.push(...walk.problems);
      threads.push(...walk.threads);
    }
    // Each thread's IrpList: the requests it issued that are still in flight.
    const irpLinks = profile.field('_IRP', 'ThreadListEntry').offset;
    const fields = threadFields(profile, shift);
    let links = 0;
    for (const thread of threads) {
      if (links >= MAX_IRP_LINKS || irps.size >= MAX_IRPS) {
        problems.push(
          `IrpLists longer than ${MAX_IRP_LINKS} links in all: the remaining threads' were not read`,
        );
        break;
      }
      const walk = walkList(
        memory,
        thread.va + BigInt(fields.irpList),
        irpLinks,
        Math.min(MAX_IRPS_PER_THREAD, MAX_IRP_LINKS - links),
        `thread ${thread.tid} IrpList`,
      );
      links += walk.records.length;
      problems.push(...walk.problems);
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
  if (shift !== null) {
    const byPid = new Map(processes.map((p) => [p.pid, p]));
    const known = new Set(threads.map((t) => t.va));
    for (const irp of irps.values()) {
      if (irp.thread === 0n || known.has(irp.thread)) continue;
      const thread = readAnyThread(memory, profile, irp.thread, shift, byPid);
      if (thread) {
        threads.push(thread);
        known.add(thread.va);
      }
    }
  }
  return { processes, processListComplete: view.listComplete, threads, irps: [...irps.values()], problems };
}
