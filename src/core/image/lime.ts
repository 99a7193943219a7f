// LiME: repeated [32-byte header][data] ranges (spec §5.5; `V3:layers/lime.py`, `LC:device_file.c`).
// Header: magic "EMiL" (u32 0x4C694D45) @0, version 1 @4, start PA u64 @8, inclusive end PA u64
// @0x10, 8 reserved bytes; the next header follows the data.

import type { ByteSource } from '../source';
import { u32, u64 } from '../util/bytes';
import { ImageError } from './errors';
import { RunSpace } from './run-space';
import { RunTableBuilder } from './run-table';
import type { PhysicalSpace } from './types';

export const LIME_MAGIC = 0x4c694d45;
const HEADER = 0x20;
const MAX_RANGES = 1 << 20;

export function openLime(source: ByteSource): PhysicalSpace {
  const warnings: string[] = [];
  const builder = new RunTableBuilder();
  let at = 0;
  let ranges = 0;
  let lastEnd = -1;
  while (at < source.size && ranges < MAX_RANGES) {
    const head = source.read(at, HEADER);
    if (head.length < HEADER) {
      warnings.push(`${source.size - at} trailing byte(s) after the last LiME range ignored`);
      break;
    }
    if (u32(head, 0) !== LIME_MAGIC) {
      warnings.push(`no LiME header at file offset ${at}: the rest of the file is ignored`);
      break;
    }
    const version = u32(head, 4);
    if (version !== 1) warnings.push(`LiME range ${ranges} has version ${version} (expected 1)`);
    const start = u64(head, 8);
    const end = u64(head, 0x10);
    if (end < start || end >= BigInt(Number.MAX_SAFE_INTEGER)) {
      warnings.push(`LiME range ${ranges} has an impossible end address; the rest of the file is ignored`);
      break;
    }
    const length = Number(end - start) + 1;
    if (Number(start) <= lastEnd) warnings.push(`LiME range ${ranges} does not start above the previous one`);
    builder.add(Number(start), length, at + HEADER);
    lastEnd = Number(end);
    ranges++;
    at += HEADER + length;
  }
  if (ranges === MAX_RANGES && at < source.size)
    warnings.push(`more than ${MAX_RANGES} LiME ranges; the rest ignored`);
  const table = builder.build(source.size, warnings);
  if (table.count === 0) throw new ImageError('corrupt', `${source.name}: LiME file with no readable range`);
  return new RunSpace({
    name: source.name,
    format: {
      id: 'lime',
      description: `LiME memory image (${ranges} range(s))`,
      holdsPhysicalMemory: true,
      details: { dataFile: source.name },
    },
    table,
    data: source,
    warnings,
  });
}
