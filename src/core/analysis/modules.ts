// The module set of an analysis: the listed loader entries, those only the MmLd scan found, and
// the kernel itself when neither has it.

import { hex } from '../../common/hex';
import type { KernelContext } from '../kernel/discover';
import type { KernelMemory } from '../kernel/memory';
import { exportName } from '../kernel/pe';
import type { LoaderEntry } from '../kernel/module-list';
import { ModuleSet, type KnownModule } from '../verdicts/module-set';

/** A scanned MmLd block that really holds a loader entry. */
export function plausibleLoaderEntry(memory: KernelMemory, entry: LoaderEntry): boolean {
  return (
    memory.isKernelAddress(entry.base) &&
    (entry.base & 0xfffn) === 0n &&
    entry.size > 0 &&
    entry.size < 0x10000000 &&
    entry.name !== null &&
    /^[\w.\- ]{1,64}\.(sys|dll|exe)$/i.test(entry.name)
  );
}

export function buildModuleSet(
  listed: LoaderEntry[],
  scanned: LoaderEntry[],
  context: KernelContext,
  /** Entries that driver objects' DriverSection pointers name. */
  fromDrivers: LoaderEntry[] = [],
): ModuleSet {
  const byBase = new Map<bigint, KnownModule>();
  const note = (entries: LoaderEntry[], seenBy: 'listed' | 'scanned' | 'fromDriver') => {
    for (const entry of entries) {
      let known = byBase.get(entry.base);
      if (!known) {
        known = {
          name: entry.name ?? `module@${hex(entry.base)}`,
          path: entry.path,
          base: entry.base,
          size: entry.size,
          entryVa: entry.entryVa,
          listed: false,
          scanned: false,
          fromDriver: false,
        };
        byBase.set(entry.base, known);
      }
      known[seenBy] = true;
    }
  };
  // The list first: a module it names keeps the list's name and size when a scan also finds it.
  note(listed, 'listed');
  note(scanned, 'scanned');
  note(fromDrivers, 'fromDriver');
  const kernel = context.kernel!;
  if (!byBase.has(kernel.base)) {
    // Off every list: named by its own export directory (ntkrnlpa.exe, ntkrnlmp.exe…), not assumed.
    const exported = context.memory ? exportName(context.memory, kernel.pe) : null;
    byBase.set(kernel.base, {
      name: exported && /^[\w.-]{1,64}$/.test(exported) ? exported : 'ntoskrnl.exe',
      path: null,
      base: kernel.base,
      size: kernel.size,
      entryVa: null,
      listed: false,
      scanned: false,
      fromDriver: false,
    });
  }
  return new ModuleSet([...byBase.values()]);
}
