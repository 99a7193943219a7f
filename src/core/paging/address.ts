// Virtual addresses as bigint at the API, as numbers inside the walk. x64 addresses must be
// canonical (bits 63–47 equal) and are reduced to 48 bits for indexing; building a VA back from
// table indices sign-extends bit 47 (spec §2.4).

import type { PagingMode } from './types';

const MASK_48 = 0xffff_ffff_ffffn;
const UPPER_HALF = 0xffff_0000_0000_0000n;
const TWO_47 = 2 ** 47;

/** The walkable number for `va`, or null when it is not canonical / outside 32 bits. */
export function vaToNumber(va: bigint, mode: PagingMode): number | null {
  if (va < 0n) return null;
  if (mode !== 'x64') return va <= 0xffff_ffffn ? Number(va) : null;
  const top = va >> 47n;
  if (top !== 0n && top !== 0x1ffffn) return null;
  return Number(va & MASK_48);
}

export function numberToVa(value: number, mode: PagingMode): bigint {
  const va = BigInt(value);
  return mode === 'x64' && value >= TWO_47 ? va | UPPER_HALF : va;
}

/**
 * Clamps a bigint bound into the mode's walkable number range [0, limit]. Addresses in the x64
 * non-canonical hole clamp to its upper edge, so a range across it covers both halves.
 */
export function clampBound(va: bigint, mode: PagingMode): number {
  if (va <= 0n) return 0;
  if (mode !== 'x64') return va >= 0x1_0000_0000n ? 2 ** 32 : Number(va);
  if (va >= 1n << 64n) return 2 ** 48;
  if (va < 1n << 47n) return Number(va);
  if (va < 0xffff_8000_0000_0000n) return TWO_47;
  return Number(va & MASK_48);
}
