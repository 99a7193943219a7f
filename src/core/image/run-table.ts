// Physical runs kept in typed arrays (24 bytes a run), so a fragmented bitmap dump with millions
// of runs stays compact. The builder validates what containers hand it: runs past the end of the
// file are clipped, overlaps trimmed (the run starting lower wins), neighbours merged.

import type { PhysicalRun } from './types';

/** Hard cap on runs per image; beyond it the image is opened partially with a warning. */
export const MAX_RUNS = 1 << 22;

export class RunTable {
  constructor(
    readonly starts: Float64Array,
    readonly lengths: Float64Array,
    readonly fileOffsets: Float64Array,
    readonly count: number,
  ) {}

  static readonly empty = new RunTable(new Float64Array(0), new Float64Array(0), new Float64Array(0), 0);

  get bytesCovered(): number {
    let total = 0;
    for (let i = 0; i < this.count; i++) total += this.lengths[i]!;
    return total;
  }

  get maxAddress(): number {
    return this.count === 0 ? 0 : this.starts[this.count - 1]! + this.lengths[this.count - 1]!;
  }

  at(index: number): PhysicalRun {
    if (!Number.isInteger(index) || index < 0 || index >= this.count)
      throw new RangeError(`run index ${index} outside 0..${this.count - 1}`);
    return { start: this.starts[index]!, length: this.lengths[index]!, fileOffset: this.fileOffsets[index]! };
  }

  /** Index of the run holding `pa`, or -1. */
  find(pa: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! <= pa) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return -1;
    return pa < this.starts[hi]! + this.lengths[hi]! ? hi : -1;
  }
}

export class RunTableBuilder {
  #starts: number[] = [];
  #lengths: number[] = [];
  #offsets: number[] = [];
  #full = false;

  constructor(readonly maxRuns = MAX_RUNS) {}

  get count(): number {
    return this.#starts.length;
  }

  /** True once `maxRuns` runs were added; later adds are refused. */
  get full(): boolean {
    return this.#full;
  }

  /** Adds a run; returns false (and adds nothing) when the table is full. */
  add(start: number, length: number, fileOffset: number): boolean {
    if (this.#starts.length >= this.maxRuns) {
      this.#full = true;
      return false;
    }
    const last = this.#starts.length - 1;
    // Extend the previous run when this one continues it in both spaces (bitmaps, page lists).
    if (
      last >= 0 &&
      this.#starts[last]! + this.#lengths[last]! === start &&
      this.#offsets[last]! + this.#lengths[last]! === fileOffset
    ) {
      this.#lengths[last]! += length;
      return true;
    }
    this.#starts.push(start);
    this.#lengths.push(length);
    this.#offsets.push(fileOffset);
    return true;
  }

  /**
   * Validates the runs against a data file of `fileSize` bytes and freezes them. Problems are
   * reported in `warnings` as sentences.
   */
  build(fileSize: number, warnings: string[]): RunTable {
    const n = this.#starts.length;
    let order = Array.from({ length: n }, (_, i) => i);
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) if (this.#starts[i]! < this.#starts[i - 1]!) sorted = false;
    if (!sorted) {
      order = order.sort((a, b) => this.#starts[a]! - this.#starts[b]! || a - b);
      warnings.push('runs were not in address order; sorted');
    }

    const starts = new Float64Array(n);
    const lengths = new Float64Array(n);
    const offsets = new Float64Array(n);
    let count = 0;
    let invalid = 0;
    let clippedBytes = 0;
    let overlapBytes = 0;
    for (const i of order) {
      let start = this.#starts[i]!;
      let length = this.#lengths[i]!;
      let offset = this.#offsets[i]!;
      if (
        !isSafeNonNegative(start) ||
        !isSafeNonNegative(length) ||
        !isSafeNonNegative(offset) ||
        length === 0
      ) {
        invalid++;
        continue;
      }
      if (offset + length > fileSize) {
        const keep = Math.max(0, fileSize - offset);
        clippedBytes += length - keep;
        length = keep;
        if (length === 0) continue;
      }
      if (count > 0) {
        const prevEnd = starts[count - 1]! + lengths[count - 1]!;
        if (start < prevEnd) {
          const overlap = Math.min(prevEnd - start, length);
          overlapBytes += overlap;
          start += overlap;
          offset += overlap;
          length -= overlap;
          if (length === 0) continue;
        }
        if (start === prevEnd && offsets[count - 1]! + lengths[count - 1]! === offset) {
          lengths[count - 1]! += length;
          continue;
        }
      }
      starts[count] = start;
      lengths[count] = length;
      offsets[count] = offset;
      count++;
    }
    if (invalid > 0)
      warnings.push(`${invalid} run(s) with a zero or impossible length or address were ignored`);
    if (clippedBytes > 0)
      warnings.push(
        `file is truncated: ${clippedBytes} byte(s) of listed memory lie past its end and are holes`,
      );
    if (overlapBytes > 0)
      warnings.push(`${overlapBytes} byte(s) of overlapping runs were ignored (the run starting lower wins)`);
    if (this.#full)
      warnings.push(`more than ${this.maxRuns} runs: only the first ${this.maxRuns} are mapped`);
    return new RunTable(
      starts.subarray(0, count),
      lengths.subarray(0, count),
      offsets.subarray(0, count),
      count,
    );
  }
}

function isSafeNonNegative(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
