// The object manager's name hash: an object directory puts an entry in bucket hash % 37, and
// from Windows Server 2003 SP1 on it keeps the full hash in OBJECT_DIRECTORY_ENTRY.HashValue.
// The function is ReactOS' ObpLookupEntryDirectory (ntoskrnl/ob/obdir.c): for each character,
// h += (h << 1) + (h >> 1) + upcase(c) in 32 bits. Because a name's hash survives the name being
// paged out, it identifies the object whose name the image lost; before it is trusted the
// function is checked against the entries whose names can be read (validateNameHash).

import type { DirectoryEntry } from './object-directory';

export function objectNameHash(name: string): number {
  let hash = 0;
  for (let at = 0; at < name.length; at++) {
    const unit = name.charCodeAt(at);
    let code: number;
    // ASCII, nearly every name, upcased without a string per character; the rest by code point.
    if (unit < 0x80) code = unit >= 0x61 && unit <= 0x7a ? unit - 0x20 : unit;
    else {
      const char = String.fromCodePoint(name.codePointAt(at)!);
      code = char.toUpperCase().charCodeAt(0);
      at += char.length - 1;
    }
    hash = (hash + ((hash << 1) >>> 0) + (hash >>> 1) + code) >>> 0;
  }
  return hash;
}

/** How many readable entries' stored HashValue (or, without one, bucket) agrees with objectNameHash, and how many not. */
export interface NameHashAgreement {
  agreeing: number;
  disagreeing: number;
}

/** Adds `entries` to `tally`: each readable entry's stored hash checked against objectNameHash. */
export function tallyNameHash(entries: readonly DirectoryEntry[], tally: NameHashAgreement): void {
  for (const entry of entries) {
    if (entry.name === null) continue;
    const hash = objectNameHash(entry.name);
    const agrees = entry.hash !== null ? entry.hash === hash : entry.bucket === hash % 37;
    if (agrees) tally.agreeing++;
    else tally.disagreeing++;
  }
}

/**
 * Whether this kernel hashes names the way objectNameHash does: every readable entry's stored
 * HashValue (or, without one, its bucket) agrees, and there are enough entries to tell.
 */
export function nameHashTrusted(tally: NameHashAgreement): boolean {
  return tally.disagreeing === 0 && tally.agreeing >= 8;
}
