// View 2 of the drivers and the modules: PsLoadedModuleList, then the module set built from it,
// the scanned loader entries and the entries that driver objects' DriverSection pointers name
// (kernels other than Windows' tag loader entries otherwise; ReactOS uses 'klmo').

import { hex } from '../../../common/hex';
import type { Module } from '../../../common/model';
import type { KernelContext } from '../../kernel/discover';
import type { KernelMemory } from '../../kernel/memory';
import { readPe } from '../../kernel/pe';
import { readLoaderEntry, walkModuleList, type LoaderEntry } from '../../kernel/module-list';
import type { LayoutProfile } from '../../profile';
import type { Completeness } from '../findings';
import type { ModuleSet } from '../../verdicts/module-set';
import { buildModuleSet, plausibleLoaderEntry } from '../modules';
import type { DriverRecord } from '../records';

export interface ModuleListView {
  entries: LoaderEntry[];
  walk: Completeness;
  warnings: string[];
}

export function readModuleListView(
  memory: KernelMemory,
  profile: LayoutProfile,
  head: bigint | null,
): ModuleListView {
  if (head === null) return { entries: [], walk: 'none', warnings: [] };
  const walk = walkModuleList(memory, profile, head);
  return {
    entries: walk.entries,
    walk: walk.problems.length === 0 ? 'complete' : 'partial',
    warnings: walk.problems,
  };
}

/** Loader entries that live drivers' DriverSection pointers name and no other view found. */
export function sectionLoaderEntries(
  memory: KernelMemory,
  profile: LayoutProfile,
  drivers: Iterable<DriverRecord>,
  known: Iterable<LoaderEntry>,
): LoaderEntry[] {
  const knownEntries = new Set([...known].map((e) => e.entryVa));
  const found: LoaderEntry[] = [];
  for (const driver of drivers) {
    const section = driver.object.driverSection;
    if (driver.freed || section === 0n || knownEntries.has(section) || !memory.isKernelAddress(section))
      continue;
    const entry = readLoaderEntry(memory, profile, section);
    if (
      entry &&
      plausibleLoaderEntry(memory, entry) &&
      entry.base === driver.object.driverStart &&
      entry.size === driver.object.driverSize
    ) {
      found.push(entry);
      knownEntries.add(section);
    }
  }
  return found;
}

export interface ModuleView {
  set: ModuleSet;
  modules: Module[];
  warnings: string[];
}

export function buildModuleView(
  context: KernelContext,
  memory: KernelMemory,
  listView: ModuleListView,
  scanned: LoaderEntry[],
  fromDrivers: LoaderEntry[],
): ModuleView {
  const set = buildModuleSet(listView.entries, scanned, context, fromDrivers);
  const complete = listView.walk === 'complete';
  const modules: Module[] = set.modules.map((m) => {
    const pe = readPe(memory, m.base);
    return {
      name: m.name,
      path: m.path,
      base: hex(m.base),
      size: m.size,
      timeDateStamp: pe?.timeDateStamp ?? null,
      checksum: pe?.checksum ?? null,
      ldrEntry: m.entryVa === null ? null : hex(m.entryVa),
      foundBy: [
        ...(m.listed ? (['module-list'] as const) : []),
        ...(m.scanned ? (['pool-scan'] as const) : []),
        ...(m.fromDriver ? (['driver-section'] as const) : []),
      ],
      // Off a list that could not be walked to its end, a module is not known to be unlinked.
      unlinked: complete && !m.listed && (m.scanned || m.fromDriver),
    };
  });
  const warnings: string[] = [];
  const unjudged = set.modules.filter((m) => !m.listed && (m.scanned || m.fromDriver)).length;
  if (!complete && unjudged > 0)
    warnings.push(
      `${unjudged} module${unjudged === 1 ? '' : 's'} found only by the pool scan ${unjudged === 1 ? 'is' : 'are'} not judged unlinked: PsLoadedModuleList ${listView.walk === 'none' ? 'was not found' : 'could not be walked to its end'}`,
    );
  return { set, modules, warnings };
}
