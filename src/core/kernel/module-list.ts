// Loaded modules from PsLoadedModuleList (spec §1.12, §3.4): a bounded, loop-guarded walk of
// InLoadOrderLinks, reading each loader entry's base, size and names.

import { readStruct, type LayoutProfile } from '../profile';
import type { KernelMemory } from './memory';

export interface LoaderEntry {
  entryVa: bigint;
  base: bigint;
  size: number;
  entryPoint: bigint;
  name: string | null;
  path: string | null;
}

const MAX_MODULES = 4096;

export function loaderStruct(profile: LayoutProfile): string {
  return profile.hasStruct('_KLDR_DATA_TABLE_ENTRY') ? '_KLDR_DATA_TABLE_ENTRY' : '_LDR_DATA_TABLE_ENTRY';
}

export function readLoaderEntry(
  memory: KernelMemory,
  profile: LayoutProfile,
  entryVa: bigint,
): LoaderEntry | null {
  const struct = loaderStruct(profile);
  const size =
    Math.max(profile.field(struct, 'BaseDllName').offset, profile.field(struct, 'FullDllName').offset) +
    (profile.pointerSize === 8 ? 16 : 8);
  const bytes = memory.bytes(entryVa, size);
  if (!bytes) return null;
  const reader = readStruct(profile, struct, bytes);
  const text = (field: string) => {
    const value = memory.unicodeString(reader.unicodeString(field));
    return 'text' in value ? value.text : null;
  };
  return {
    entryVa,
    base: reader.pointer('DllBase'),
    size: reader.number('SizeOfImage'),
    entryPoint: reader.pointer('EntryPoint'),
    name: text('BaseDllName'),
    path: text('FullDllName'),
  };
}

export interface ModuleWalk {
  entries: LoaderEntry[];
  problems: string[];
}

/** Walks the list whose head is at `headVa` (InLoadOrderLinks is at offset 0 of the entry). */
export function walkModuleList(memory: KernelMemory, profile: LayoutProfile, headVa: bigint): ModuleWalk {
  const entries: LoaderEntry[] = [];
  const problems: string[] = [];
  const seen = new Set<bigint>([headVa]);
  const linkOffset = BigInt(profile.field(loaderStruct(profile), 'InLoadOrderLinks').offset);
  let link = memory.ptr(headVa);
  while (link !== null && link !== headVa) {
    if (seen.has(link)) {
      problems.push(`PsLoadedModuleList loops back to 0x${link.toString(16)}`);
      break;
    }
    if (entries.length >= MAX_MODULES || !memory.isKernelAddress(link)) {
      problems.push(`PsLoadedModuleList walk stopped at 0x${link.toString(16)}`);
      break;
    }
    seen.add(link);
    const entry = readLoaderEntry(memory, profile, link - linkOffset);
    if (!entry) {
      problems.push(`loader entry at 0x${link.toString(16)} is unreadable`);
      break;
    }
    entries.push(entry);
    link = memory.ptr(link);
  }
  if (link === null) problems.push('PsLoadedModuleList walk hit an unreadable link');
  return { entries, problems };
}
