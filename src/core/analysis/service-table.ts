// The system-service table of the analysed kernel, each entry judged as an IRP handler is: a
// routine in the kernel is its own; an entry into another module or none is a hook; a routine
// (or whatever the entry points at) whose first instructions leave the kernel is patched.
// Each entry is named by its number in the build's documented table (when the table has as many
// services as the kernel's), else by the exported Nt routine it lands on, else by its number.

import { hex } from '../../common/hex';
import type { ServiceTable } from '../../common/model';
import type { KernelContext, KernelImageFacts } from '../kernel/discover';
import type { KernelMemory } from '../kernel/memory';
import {
  findServiceTable,
  readServiceEntries,
  type RawServiceEntry,
  type ServiceTableLocation,
} from '../kernel/service-table';
import type { HandlerJudge } from '../verdicts/handlers';
import type { Prologues } from '../verdicts/inline';
import type { ModuleSet } from '../verdicts/module-set';
import { documentedServiceNames, type ServiceNaming } from './service-table-names';

/** The table found and its entries read: the kernel image alone, so it is read while the pool scan runs. */
export type ServiceTableRead =
  | {
      found: ServiceTableLocation;
      entries: Array<RawServiceEntry | { index: number; address: null }>;
      documented: ServiceNaming;
    }
  | { found: null; tried: string[] };

/** The table and its entries, and each routine's opening code read into `prologues` for the judge. */
export function readServiceTable(
  context: KernelContext,
  memory: KernelMemory,
  kernel: KernelImageFacts,
  prologues: Prologues,
): ServiceTableRead {
  const { found, tried } = findServiceTable(memory, kernel.pe, kernel.exports, context.profile);
  if (!found) return { found: null, tried };
  const build = context.version?.value.number ?? null;
  const entries = readServiceEntries(memory, found, build);
  for (const entry of entries) if (entry.address !== null) prologues.transfer(entry.address);
  return {
    found,
    entries,
    documented: documentedServiceNames(memory.pointerSize === 8 ? 'x64' : 'x86', build, found.limit),
  };
}

export function judgeServiceTable(
  read: ServiceTableRead,
  kernel: KernelImageFacts,
  modules: ModuleSet,
  judge: HandlerJudge,
  warnings: string[],
): ServiceTable | null {
  if (read.found === null) {
    warnings.push(`system-service table not found (${read.tried.join('; ')})`);
    return null;
  }
  const { found, documented } = read;
  const exported = new Map<bigint, string>();
  for (const [name, rva] of kernel.exports)
    if (name.startsWith('Nt')) exported.set(kernel.base + BigInt(rva), name);
  const byNumber = documented.found ? documented.table.names : [];
  const own = modules.owner(kernel.base);
  const entries = [];
  let unreadable = 0;
  let unnamed = 0;
  for (const entry of read.entries) {
    if (entry.address === null) {
      unreadable++;
      continue;
    }
    const name = byNumber[entry.index] ?? exported.get(entry.address);
    if (name === undefined) unnamed++;
    const shown = name ?? `service 0x${entry.index.toString(16).padStart(3, '0')}`;
    entries.push(judge.judge(entry.address, own, entry.index, shown, false));
  }
  if (unreadable > 0)
    warnings.push(`${unreadable} of ${found.limit} system-service table entries are not in the image`);
  if (!documented.found)
    warnings.push(
      `system-service names: ${documented.why}; ${unnamed} of ${found.limit} entries land on no exported Nt routine and are shown by number`,
    );
  return {
    descriptor: hex(found.descriptor),
    method: found.method,
    base: hex(found.base),
    limit: found.limit,
    entries,
  };
}
