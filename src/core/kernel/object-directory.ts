// Object directory walks (spec §1.10): 37 hash buckets of OBJECT_DIRECTORY_ENTRY chains. Every
// chain is bounded and loop-guarded; a bad entry ends its chain with a recorded reason.

import { readStruct, type LayoutProfile } from '../profile';
import type { KernelMemory } from './memory';
import { nameText, readObjectHeader, type ObjectHeader, type ObjectTypes } from './object-header';

export const HASH_BUCKETS = 37;
const MAX_CHAIN = 4096;

export interface DirectoryEntry {
  name: string | null;
  header: ObjectHeader;
  /** The hash bucket the entry hangs in: a function of the name, so the same on every boot. */
  bucket: number;
  /** OBJECT_DIRECTORY_ENTRY.HashValue, the name's full hash (absent on XP and 2003 RTM x86). */
  hash: number | null;
}

export interface DirectoryListing {
  entries: DirectoryEntry[];
  /** Objects the directory lists whose headers cannot be read: their type and name are unknown. */
  unreadable: bigint[];
  /** Every chain ended at its null link (unreadable headers aside): nothing listed was missed. */
  complete: boolean;
  problems: string[];
}

export function listDirectory(
  memory: KernelMemory,
  profile: LayoutProfile,
  types: ObjectTypes,
  directoryVa: bigint,
): DirectoryListing {
  const ptr = profile.pointerSize;
  const entries: DirectoryEntry[] = [];
  const unreadable: bigint[] = [];
  const problems: string[] = [];
  let complete = true;
  const buckets = memory.bytes(directoryVa, HASH_BUCKETS * ptr);
  if (!buckets)
    return {
      entries,
      unreadable,
      complete: false,
      problems: [`directory at 0x${directoryVa.toString(16)} is unreadable`],
    };
  const entrySize = profile.sizeOf('_OBJECT_DIRECTORY_ENTRY');
  const hasHash = profile.hasField('_OBJECT_DIRECTORY_ENTRY', 'HashValue');
  const seen = new Set<bigint>();
  for (let bucket = 0; bucket < HASH_BUCKETS; bucket++) {
    let entry = readStruct(profile, '_OBJECT_DIRECTORY', buckets).pointer('HashBuckets', bucket);
    for (let steps = 0; entry !== 0n; steps++) {
      if (steps >= MAX_CHAIN || seen.has(entry) || !memory.isKernelAddress(entry)) {
        problems.push(
          `bucket ${bucket}: chain stopped at 0x${entry.toString(16)} (${seen.has(entry) ? 'loop' : steps >= MAX_CHAIN ? 'too long' : 'not a kernel address'})`,
        );
        complete = false;
        break;
      }
      seen.add(entry);
      const bytes = memory.bytes(entry, entrySize);
      if (!bytes) {
        problems.push(`bucket ${bucket}: entry at 0x${entry.toString(16)} is unreadable`);
        complete = false;
        break;
      }
      const reader = readStruct(profile, '_OBJECT_DIRECTORY_ENTRY', bytes);
      const body = reader.pointer('Object');
      const header = memory.isKernelAddress(body) ? readObjectHeader(memory, profile, types, body) : null;
      if (header)
        entries.push({
          name: nameText(header.name),
          header,
          bucket,
          hash: hasHash ? reader.number('HashValue') : null,
        });
      else {
        problems.push(`bucket ${bucket}: object 0x${body.toString(16)} has no readable header`);
        if (memory.isKernelAddress(body)) unreadable.push(body);
        else complete = false;
      }
      entry = reader.pointer('ChainLink');
    }
  }
  return { entries, unreadable, complete, problems };
}

/** Looks a path such as "\\Driver" up from the root directory, one component at a time. */
export function lookupDirectory(
  memory: KernelMemory,
  profile: LayoutProfile,
  types: ObjectTypes,
  rootVa: bigint,
  path: string,
): bigint | null {
  let current = rootVa;
  for (const component of path.split('\\').filter(Boolean)) {
    const listing = listDirectory(memory, profile, types, current);
    const match = listing.entries.find((e) => e.name?.toLowerCase() === component.toLowerCase());
    if (!match) return null;
    current = match.header.bodyVa;
  }
  return current;
}
