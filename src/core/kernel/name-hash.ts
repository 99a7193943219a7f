// The object manager's name hash: an object directory puts an entry in bucket hash % 37, and
// from Windows Server 2003 SP1 on it keeps the full hash in OBJECT_DIRECTORY_ENTRY.HashValue.
// The function is ReactOS' ObpLookupEntryDirectory (ntoskrnl/ob/obdir.c): for each character,
// h += (h << 1) + (h >> 1) + upcase(c) in 32 bits. Because a name's hash survives the name being
// paged out, it identifies the object whose name the image lost; before it is trusted the
// function is checked against the entries whose names can be read (validateNameHash).

import type { DirectoryEntry } from './object-directory';

export function objectNameHash(name: string): number {
  let hash = 0;
  for (const char of name) {
    const code = char.toUpperCase().charCodeAt(0);
    hash = (hash + ((hash << 1) >>> 0) + (hash >>> 1) + code) >>> 0;
  }
  return hash;
}

/**
 * Whether this kernel hashes names the way objectNameHash does: every readable entry's stored
 * HashValue (or, without one, its bucket) agrees, and there are enough entries to tell.
 */
export function validateNameHash(entries: readonly DirectoryEntry[]): boolean {
  let agreeing = 0;
  for (const entry of entries) {
    if (entry.name === null) continue;
    const hash = objectNameHash(entry.name);
    const agrees = entry.hash !== null ? entry.hash === hash : entry.bucket === hash % 37;
    if (!agrees) return false;
    agreeing++;
  }
  return agreeing >= 8;
}
