// The System process's threads as entries beside the callbacks: each thread's StartAddress (the
// routine PsCreateSystemThread was given) judged like a notify routine. A system thread started
// in pool code is how a driver that unloaded itself, or code copied into pool, keeps running with
// no module to show for it (the idea of Volatility 3's windows.orphan_kernel_threads, which lists
// the System threads whose StartAddress lies in no module of PsLoadedModuleList).
//
// System's thread list is walked again here, on its own: the activity stage's walk reports
// problems for every process together, while this kind's coverage is System's list alone.

import { hex } from '../../common/hex';
import type { Callback, CallbackHead } from '../../common/model';
import { threadFields, walkThreads } from '../activity/threads';
import type { ProcessRecord } from '../activity';
import type { KernelMemory } from '../kernel/memory';
import type { LayoutProfile } from '../profile';
import type { HandlerJudge } from '../verdicts/handlers';
import type { ModuleSet } from '../verdicts/module-set';

const SYSTEM_PID = 4;

export interface SystemThreadInputs {
  memory: KernelMemory;
  profile: LayoutProfile | null;
  modules: ModuleSet;
  judge: HandlerJudge;
  /** The processes read (list and pool scan). */
  processes: readonly ProcessRecord[];
  /** Why threads cannot be read in this image; null when they can. */
  threadsUnavailable: string | null;
}

function unavailable(why: string): { head: CallbackHead; entries: Callback[]; warnings: string[] } {
  return {
    head: {
      kind: 'system-thread',
      address: null,
      method: null,
      coverage: { state: 'unavailable', missing: [why] },
    },
    entries: [],
    warnings: [why],
  };
}

/** The System process: the one on PsActiveProcessHead when a crafted pool copy also says PID 4. */
function systemProcess(processes: readonly ProcessRecord[]): ProcessRecord | null {
  const candidates = processes.filter((p) => p.pid === SYSTEM_PID);
  return candidates.find((p) => p.onList) ?? candidates[0] ?? null;
}

export function readSystemThreads(inputs: SystemThreadInputs): {
  head: CallbackHead;
  entries: Callback[];
  warnings: string[];
} {
  const { memory, profile } = inputs;
  if (!profile) return unavailable('System threads are not read: no structure layouts for this kernel');
  if (inputs.threadsUnavailable !== null)
    return unavailable(`System threads are not read: ${inputs.threadsUnavailable}`);
  if (threadFields(profile).start === null)
    return unavailable('System threads are not judged: ETHREAD.StartAddress could not be established');
  const system = systemProcess(inputs.processes);
  if (!system) return unavailable('System threads are not read: no process with PID 4 was found');
  const listHead = system.va + BigInt(profile.field('_EPROCESS', 'ThreadListHead').offset);
  const walk = walkThreads(memory, profile, system);
  const entries = walk.threads.map((thread, place): Callback => {
    const holder = inputs.modules.owner(thread.startAddress);
    const routine = inputs.judge.judge(
      thread.startAddress,
      holder,
      place,
      `System thread ${thread.tid}`,
      true,
    );
    return {
      kind: 'system-thread',
      slot: place,
      entry: hex(thread.va),
      block: null,
      routine,
      owner: holder?.name ?? null,
      context: null,
      component: null,
      device: null,
      driver: null,
      tid: thread.tid,
    };
  });
  return {
    head: {
      kind: 'system-thread',
      address: hex(listHead),
      method: `ThreadListHead of the System process (PID 4) at ${hex(system.va)}`,
      coverage: { state: walk.problems.length > 0 ? 'partial' : 'complete', missing: walk.problems },
    },
    entries,
    // The activity stage's walk of the same list has already warned of each problem.
    warnings: [],
  };
}
