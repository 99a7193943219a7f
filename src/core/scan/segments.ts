// The physical image as file segments to stream, split into shares for parallel scanning.

import type { PhysicalSpace } from '../image';

export interface Segment {
  pa: number;
  fileOffset: number;
  length: number;
}

/** All runs of the space as segments, each trimmed to the scan alignment. */
export function segmentsOf(space: PhysicalSpace, alignment: number): Segment[] {
  const out: Segment[] = [];
  for (let i = 0; i < space.runCount; i++) {
    const run = space.runAt(i);
    const skip = (alignment - (run.start % alignment)) % alignment;
    const length = Math.floor((run.length - skip) / alignment) * alignment;
    if (length > 0) out.push({ pa: run.start + skip, fileOffset: run.fileOffset + skip, length });
  }
  return out;
}

/** Splits segments into `count` shares of about equal bytes, cutting segments where needed. */
export function shareSegments(segments: Segment[], count: number, alignment: number): Segment[][] {
  const total = segments.reduce((n, s) => n + s.length, 0);
  const target = Math.ceil(total / count / alignment) * alignment;
  const shares: Segment[][] = [];
  let current: Segment[] = [];
  let filled = 0;
  for (const segment of segments) {
    let rest = { ...segment };
    while (rest.length > 0) {
      const room = target - filled;
      const take = Math.min(room, rest.length);
      current.push({ pa: rest.pa, fileOffset: rest.fileOffset, length: take });
      filled += take;
      rest = { pa: rest.pa + take, fileOffset: rest.fileOffset + take, length: rest.length - take };
      if (filled >= target && shares.length < count - 1) {
        shares.push(current);
        current = [];
        filled = 0;
      }
    }
  }
  if (current.length) shares.push(current);
  return shares;
}
