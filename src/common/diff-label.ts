// What a difference is about, in words. An entry's key is the object's name for drivers,
// devices, modules, links and services; for a callback it is the comparison's identity
// (`process-notify|code:5356…`, `registry|ndisprot2.sys+0x1700`), which pairs a callback across
// boots but reads as a code, so a callback is shown by what it is and where it runs.

import type { DiffEntry } from './api';

export function diffEntryLabel(entry: Pick<DiffEntry, 'kind' | 'key' | 'baseline' | 'primary'>): string {
  if (entry.kind !== 'callback') return entry.key;
  return (entry.primary ?? entry.baseline)?.text ?? entry.key;
}
