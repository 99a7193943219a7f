// The kernel's executable sections read in 1 MiB chunks for a byte-pattern search, each chunk
// overlapping the next by `overlap` bytes so a pattern across the seam is still seen; pages that
// cannot be read are zeros (KernelMemory.scanBytes). Used by the KdCopyDataBlock and
// KiSystemServiceRepeat searches.

import type { KernelMemory } from './memory';
import { IMAGE_SCN_MEM_EXECUTE, type PeImage } from './pe';

const CHUNK = 0x100000;
/** Larger than any kernel section; a crafted size is not scanned. */
const MAX_SECTION = 0x4000000;

/** Calls `visit` with each chunk and its VA until it returns something other than undefined. */
export function searchKernelCode<T>(
  memory: KernelMemory,
  pe: PeImage,
  overlap: number,
  visit: (bytes: Buffer, va: bigint) => T | undefined,
): T | undefined {
  for (const section of pe.sections) {
    if (!(section.characteristics & IMAGE_SCN_MEM_EXECUTE) || section.size > MAX_SECTION) continue;
    for (let offset = 0; offset < section.size; offset += CHUNK) {
      const length = Math.min(CHUNK + overlap, section.size - offset);
      const va = pe.base + BigInt(section.rva + offset);
      const read = memory.scanBytes(va, length);
      const found = visit(Buffer.from(read.buffer, read.byteOffset, read.length), va);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
