// Which addresses an image's address spaces can hold: an address outside them is refused with the
// reason before any read is asked for (an x64 address on an x86 image would otherwise leave the
// hex view waiting for a page that cannot come).

import { hex } from '../../common/hex';
import type { MemorySpace } from '../../common/api';
import type { ResultIndex } from './result-index';

export interface AddressSpaces {
  /** x64: 64-bit canonical virtual addresses; else 32-bit. */
  wide: boolean;
  /** The highest physical address the image holds. */
  physicalMax: bigint;
}

export function addressSpacesOf(index: ResultIndex): AddressSpaces {
  return { wide: index.wide, physicalMax: BigInt(index.result.image.physical.maxAddress) };
}
const MAX_32 = 0xffff_ffffn;
const MAX_64 = (1n << 64n) - 1n;

/** Why `address` is not in the space, or null when it is. */
export function addressProblem(address: bigint, space: MemorySpace, spaces: AddressSpaces): string | null {
  if (address < 0n) return `${hex(address)} is negative.`;
  if (space === 'physical') {
    return address > spaces.physicalMax
      ? `${hex(address)} is past the end of this image's physical address space (its last address is ${hex(spaces.physicalMax)}).`
      : null;
  }
  if (!spaces.wide)
    return address > MAX_32
      ? `${hex(address)} is wider than this image's 32-bit virtual address space (0 … ${hex(MAX_32)}).`
      : null;
  if (address > MAX_64) return `${hex(address)} is wider than the 64-bit virtual address space.`;
  const high = address >> 47n;
  if (high !== 0n && high !== (1n << 17n) - 1n)
    return `${hex(address)} is not a canonical x64 address (bits 48 to 63 must repeat bit 47).`;
  return null;
}
