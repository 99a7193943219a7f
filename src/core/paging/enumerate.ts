// Every mapping in a VA range, found by walking the tables top-down in VA order and skipping
// empty subtrees. Crafted tables cannot make it run away: the number of tables read and of
// callbacks made are capped (the result says which cap hit), tables of one repeated non-zero
// entry are refused (spec §2.1, `V3:layers/intel.py _get_valid_table`), and the caller can keep
// the walk out of the self-map slot.

import { u32 } from '../util/bytes';
import { clampBound, numberToVa } from './address';
import { frameOf, LARGE, PAGE, PRESENT, PROTOTYPE, TRANSITION, type ModeSpec } from './modes';
import type { MappingWalkOptions, MappingWalkResult, PageMapping, PhysicalReader } from './types';

const DEFAULT_MAX_MAPPINGS = 1 << 22;
const DEFAULT_MAX_TABLES = 1 << 16;

class Stop extends Error {}

export function forEachMapping(
  phys: PhysicalReader,
  spec: ModeSpec,
  tableBase: number,
  vaStart: bigint,
  vaEnd: bigint,
  callback: (mapping: PageMapping) => boolean | void,
  options: MappingWalkOptions,
): MappingWalkResult {
  const lo = clampBound(vaStart, spec.mode);
  const hi = clampBound(vaEnd, spec.mode);
  const skip = new Set(options.skipTopLevel ?? []);
  const maxMappings = options.maxMappings ?? DEFAULT_MAX_MAPPINGS;
  const maxTables = options.maxTables ?? DEFAULT_MAX_TABLES;
  const state = {
    mappings: 0,
    tablesVisited: 0,
    missingTables: 0,
    invalidTables: 0,
    truncated: undefined as 'max-mappings' | 'max-tables' | undefined,
    stopped: false,
  };

  const emit = (vaNumber: number, pa: number, size: number, viaTransition: boolean): void => {
    if (state.mappings >= maxMappings) {
      state.truncated = 'max-mappings';
      throw new Stop();
    }
    state.mappings++;
    const keepGoing = callback({
      va: numberToVa(vaNumber, spec.mode),
      pa,
      size,
      viaTransition,
      inImage: phys.isPresent(pa),
    });
    if (keepGoing === false) {
      state.stopped = true;
      throw new Stop();
    }
  };

  const visit = (table: number, depth: number, regionBase: number, viaTransition: boolean): void => {
    if (state.tablesVisited >= maxTables) {
      state.truncated = 'max-tables';
      throw new Stop();
    }
    state.tablesVisited++;
    const level = spec.levels[depth]!;
    const entries = 2 ** level.bits;
    const bytes = phys.read(table, entries * spec.entrySize);
    if (bytes === null) {
      state.missingTables++;
      return;
    }
    if (entries >= 512 && isUniform(bytes, spec.entrySize)) {
      state.invalidTables++;
      return;
    }
    const span = 2 ** level.shift;
    const first = Math.max(0, Math.floor((lo - regionBase) / span));
    const last = Math.min(entries - 1, Math.floor((hi - 1 - regionBase) / span));
    const leafLevel = depth === spec.levels.length - 1;
    for (let index = first; index <= last; index++) {
      if (depth === 0 && skip.has(index)) continue;
      const at = index * spec.entrySize;
      const entryLo = u32(bytes, at);
      const entryHi = spec.entrySize === 8 ? u32(bytes, at + 4) : 0;
      const vaNumber = regionBase + index * span;
      let via = viaTransition;
      if (!(entryLo & PRESENT)) {
        // Only transition entries (bit 11 set, bit 10 clear) still name a frame (spec §2.1).
        if (!(entryLo & TRANSITION) || entryLo & PROTOTYPE) continue;
        const frame = frameOf(entryLo, entryHi, spec.entrySize);
        if (frame >= phys.maxAddress) continue;
        via = true;
        if (leafLevel) emit(vaNumber, frame, PAGE, via);
        else visit(frame, depth + 1, vaNumber, via);
        continue;
      }
      if (level.large && entryLo & LARGE) {
        emit(vaNumber, frameOf(entryLo, entryHi, spec.entrySize, level.shift), span, via);
        continue;
      }
      const frame = frameOf(entryLo, entryHi, spec.entrySize);
      if (leafLevel) emit(vaNumber, frame, PAGE, via);
      else visit(frame, depth + 1, vaNumber, via);
    }
  };

  if (hi > lo) {
    try {
      visit(tableBase, 0, 0, false);
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
    }
  }
  const result: MappingWalkResult = {
    mappings: state.mappings,
    tablesVisited: state.tablesVisited,
    missingTables: state.missingTables,
    invalidTables: state.invalidTables,
    stopped: state.stopped,
  };
  return state.truncated === undefined ? result : { ...result, truncated: state.truncated };
}

/** Every entry identical and non-zero. */
function isUniform(bytes: Uint8Array, entrySize: 4 | 8): boolean {
  const firstLo = u32(bytes, 0);
  const firstHi = entrySize === 8 ? u32(bytes, 4) : 0;
  if (firstLo === 0 && firstHi === 0) return false;
  for (let at = entrySize; at < bytes.length; at += entrySize) {
    if (u32(bytes, at) !== firstLo) return false;
    if (entrySize === 8 && u32(bytes, at + 4) !== firstHi) return false;
  }
  return true;
}
