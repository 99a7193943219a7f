// Table geometry and entry decoding per paging mode (spec §2.2–§2.4). Entries are handled as two
// 32-bit halves so the hot path needs no bigint.

import type { PagingMode, TableLevel } from './types';

export interface LevelSpec {
  readonly name: TableLevel;
  /** VA bit where this level's index starts. */
  readonly shift: number;
  readonly bits: number;
  /** Whether a present entry with PS (bit 7) maps a large page here. */
  readonly large: boolean;
}

export interface ModeSpec {
  readonly mode: PagingMode;
  readonly entrySize: 4 | 8;
  readonly levels: readonly LevelSpec[];
  /** Size of the virtual address space as a number: 2^32, or 2^48 for x64 (decanonicalised). */
  readonly vaLimit: number;
}

export const MODES: Readonly<Record<PagingMode, ModeSpec>> = {
  x86: {
    mode: 'x86',
    entrySize: 4,
    levels: [
      { name: 'pde', shift: 22, bits: 10, large: true },
      { name: 'pte', shift: 12, bits: 10, large: false },
    ],
    vaLimit: 2 ** 32,
  },
  pae: {
    mode: 'pae',
    entrySize: 8,
    levels: [
      { name: 'pdpte', shift: 30, bits: 2, large: false },
      { name: 'pde', shift: 21, bits: 9, large: true },
      { name: 'pte', shift: 12, bits: 9, large: false },
    ],
    vaLimit: 2 ** 32,
  },
  x64: {
    mode: 'x64',
    entrySize: 8,
    levels: [
      { name: 'pml4e', shift: 39, bits: 9, large: false },
      { name: 'pdpte', shift: 30, bits: 9, large: true },
      { name: 'pde', shift: 21, bits: 9, large: true },
      { name: 'pte', shift: 12, bits: 9, large: false },
    ],
    vaLimit: 2 ** 48,
  },
};

export const TWO_32 = 2 ** 32;
export const PAGE = 0x1000;

export const PRESENT = 0x1;
export const LARGE = 0x80;
export const PROTOTYPE = 0x400;
export const TRANSITION = 0x800;

/**
 * Frame address of an entry: bits 12–51 for 8-byte entries (spec §2.1 recommendation), bits 12–31
 * for x86. For a large page, the bits below `shift` are cleared too, which also drops the PAT bit
 * (bit 12) a large entry carries (`V3:layers/intel.py _translate_entry`).
 */
export function frameOf(lo: number, hi: number, entrySize: 4 | 8, shift = 12): number {
  const lowMask = shift >= 32 ? 0 : (0xffffffff << shift) >>> 0;
  const low = (lo & lowMask) >>> 0;
  return entrySize === 4 ? low : (hi & 0xfffff) * TWO_32 + low;
}

export function entryBigint(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** CR3 → table base: clear bits 0–11 (x86, x64), or 0–4 for the 32-byte-aligned PAE PDPT (spec §2.1). */
export function normaliseDtb(dtb: number, mode: PagingMode): number {
  if (!Number.isSafeInteger(dtb) || dtb < 0)
    throw new RangeError(`DTB must be a non-negative integer: ${dtb}`);
  if (mode === 'pae') return (dtb % TWO_32) - ((dtb % TWO_32) % 32);
  if (mode === 'x86') return (dtb % TWO_32) - ((dtb % TWO_32) % PAGE);
  const within52 = dtb % 2 ** 52;
  return within52 - (within52 % PAGE);
}
