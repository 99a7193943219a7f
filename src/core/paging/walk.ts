// One page-table walk (spec §2.2–§2.4) with the Windows software-PTE rules of §2.1: transition
// entries are followed at every level (as Volatility 3 does), prototype and page-file/demand-zero
// entries end the walk with their reason.

import { u32 } from '../util/bytes';
import {
  entryBigint,
  frameOf,
  LARGE,
  PAGE,
  PRESENT,
  PROTOTYPE,
  TRANSITION,
  type LevelSpec,
  type ModeSpec,
} from './modes';
import type { PhysicalReader, TableLevel, Translation, Unmapped } from './types';

export interface DecodedEntry {
  readonly lo: number;
  readonly hi: number;
}

export function readEntry(phys: PhysicalReader, at: number, entrySize: 4 | 8): DecodedEntry | null {
  const bytes = phys.read(at, entrySize);
  if (bytes === null) return null;
  return { lo: u32(bytes, 0), hi: entrySize === 8 ? u32(bytes, 4) : 0 };
}

export function indexAt(vaNumber: number, level: LevelSpec): number {
  return Math.floor(vaNumber / 2 ** level.shift) % 2 ** level.bits;
}

/** Classifies a non-present entry: null means transition (still usable). */
export function notPresentReason(entry: DecodedEntry, spec: ModeSpec, level: TableLevel): Unmapped | null {
  const { lo, hi } = entry;
  const raw = entryBigint(lo, hi);
  if (lo === 0 && hi === 0) return { ok: false, reason: 'not-present', level, entry: 0n };
  if (lo & PROTOTYPE) return { ok: false, reason: 'prototype', level, entry: raw };
  if (lo & TRANSITION) return null;
  // Page-file PTE: bits 1–4 select the page file; the page offset is the upper 32 bits on
  // PAE/x64 and bits 12–31 on x86 (spec §2.1, `V3:layers/intel.py _translate_swap`).
  const pageOffset = spec.entrySize === 8 ? hi >>> 0 : lo >>> 12;
  return {
    ok: false,
    reason: 'paged-out',
    level,
    entry: raw,
    pageFile: { index: (lo >>> 1) & 0xf, pageOffset },
  };
}

/** Walks the tables from `base` for a VA already reduced to a number inside the mode's space. */
export function walk(phys: PhysicalReader, spec: ModeSpec, base: number, vaNumber: number): Translation {
  let table = base;
  let viaTransition = false;
  const levels = spec.levels;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    const at = table + indexAt(vaNumber, level) * spec.entrySize;
    const entry = readEntry(phys, at, spec.entrySize);
    if (entry === null) return { ok: false, reason: 'no-physical-page', level: level.name, pa: at };
    const last = i === levels.length - 1;
    if (entry.lo & PRESENT) {
      if (level.large && entry.lo & LARGE) {
        const size = 2 ** level.shift;
        const pa = frameOf(entry.lo, entry.hi, spec.entrySize, level.shift) + (vaNumber % size);
        return finish(phys, pa, size, viaTransition);
      }
      const frame = frameOf(entry.lo, entry.hi, spec.entrySize);
      if (last) return finish(phys, frame + (vaNumber % PAGE), PAGE, viaTransition);
      table = frame;
      continue;
    }
    const failure = notPresentReason(entry, spec, level.name);
    if (failure !== null) return failure;
    // Transition: the frame is still valid; the image bounds it (spec §2.1 recommendation).
    const frame = frameOf(entry.lo, entry.hi, spec.entrySize);
    if (frame >= phys.maxAddress)
      return {
        ok: false,
        reason: 'transition-out-of-range',
        level: level.name,
        entry: entryBigint(entry.lo, entry.hi),
        pa: frame,
      };
    viaTransition = true;
    if (last) return finish(phys, frame + (vaNumber % PAGE), PAGE, viaTransition);
    table = frame;
  }
  throw new Error('unreachable: every walk ends at its last level');
}

function finish(phys: PhysicalReader, pa: number, pageSize: number, viaTransition: boolean): Translation {
  if (!phys.isPresent(pa)) return { ok: false, reason: 'no-physical-page', level: 'page', pa };
  return { ok: true, pa, pageSize, viaTransition };
}
