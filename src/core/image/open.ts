// Opening a source already at hand (tests, live captures, a file opened by node/open-image.ts) as
// a PhysicalSpace, choosing the container by content.

import type { ByteSource } from '../source';
import { openCrashDump } from './crashdump/open';
import { openElfCore } from './elf';
import { openLime } from './lime';
import { openRaw } from './raw';
import { SNIFF_BYTES, sniff } from './sniff';
import type { PhysicalSpace } from './types';
import { openVmware } from './vmware';

/** Files that travel with the main one (found by name by `openImage`, or given by a test). */
export interface Companions {
  readonly vmwareMetadata?: ByteSource;
  readonly vmwareMemory?: ByteSource;
}

/** Opens an image from a source already at hand (tests, live captures). */
export function openImageFromSource(source: ByteSource, companions: Companions = {}): PhysicalSpace {
  const kind = sniff(source.name, source.read(0, SNIFF_BYTES), source.size);
  if (kind === 'raw') {
    if (companions.vmwareMetadata !== undefined)
      return openVmware({ metadata: companions.vmwareMetadata, memory: source });
    return openRaw(source);
  }
  if (kind === 'vmware') return openVmware({ metadata: source, memory: companions.vmwareMemory });
  return openByKind(source, kind);
}

/** The containers that need no companion file. */
export function openByKind(source: ByteSource, kind: 'crashdump' | 'elf' | 'lime'): PhysicalSpace {
  switch (kind) {
    case 'crashdump':
      return openCrashDump(source);
    case 'elf':
      return openElfCore(source);
    case 'lime':
      return openLime(source);
  }
}
