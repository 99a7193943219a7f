// The PhysicalSpace every container returns: a run table over one data source.

import type { ByteSource } from '../source';
import type { RunTable } from './run-table';
import type {
  ImageFormat,
  ImageHints,
  PhysicalReadOptions,
  PhysicalRun,
  PhysicalSpace,
  TriageDump,
} from './types';

/** The largest single physical read; larger requests are a caller bug, not an image property. */
export const MAX_PHYSICAL_READ = 256 * 1024 * 1024;

export interface RunSpaceParts {
  readonly name: string;
  readonly format: ImageFormat;
  readonly table: RunTable;
  /** The file the runs' offsets point into. */
  readonly data: ByteSource;
  /** Other files held open (metadata), closed with the space. */
  readonly others?: readonly ByteSource[];
  readonly hints?: ImageHints;
  readonly warnings?: readonly string[];
  readonly triage?: TriageDump;
}

export class RunSpace implements PhysicalSpace {
  readonly name: string;
  readonly format: ImageFormat;
  readonly hints: ImageHints;
  readonly warnings: readonly string[];
  readonly triage?: TriageDump;
  readonly bytesCovered: number;
  readonly maxAddress: number;
  readonly #table: RunTable;
  readonly #data: ByteSource;
  readonly #others: readonly ByteSource[];
  #runs: readonly PhysicalRun[] | undefined;

  constructor(parts: RunSpaceParts) {
    this.name = parts.name;
    this.format = parts.format;
    this.hints = parts.hints ?? {};
    this.warnings = parts.warnings ?? [];
    if (parts.triage !== undefined) this.triage = parts.triage;
    this.#table = parts.table;
    this.#data = parts.data;
    this.#others = parts.others ?? [];
    this.bytesCovered = parts.table.bytesCovered;
    this.maxAddress = parts.table.maxAddress;
  }

  /** Bytes read from the image's files so far (data file and metadata). */
  get bytesRead(): number {
    return [this.#data, ...this.#others].reduce((n, source) => n + source.stats.bytesRead, 0);
  }

  get runCount(): number {
    return this.#table.count;
  }

  runAt(index: number): PhysicalRun {
    return this.#table.at(index);
  }

  get runs(): readonly PhysicalRun[] {
    this.#runs ??= Object.freeze(Array.from({ length: this.#table.count }, (_, i) => this.#table.at(i)));
    return this.#runs;
  }

  isPresent(pa: number): boolean {
    return Number.isSafeInteger(pa) && pa >= 0 && this.#table.find(pa) >= 0;
  }

  read(pa: number, length: number, options: PhysicalReadOptions = {}): Uint8Array | null {
    if (!Number.isSafeInteger(pa) || pa < 0)
      throw new RangeError(`physical address must be a non-negative integer: ${pa}`);
    if (!Number.isSafeInteger(length) || length < 0 || length > MAX_PHYSICAL_READ)
      throw new RangeError(`physical read length must be 0..${MAX_PHYSICAL_READ}: ${length}`);
    const table = this.#table;
    let index = table.find(pa);
    if (index < 0) return null;
    if (length === 0) return new Uint8Array(0);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      if (index >= table.count) return null;
      const at = pa + done;
      const runStart = table.starts[index]!;
      const runEnd = runStart + table.lengths[index]!;
      if (at < runStart || at >= runEnd) return null;
      const take = Math.min(length - done, runEnd - at);
      const fileOffset = table.fileOffsets[index]! + (at - runStart);
      const piece = options.direct
        ? this.#data.readDirect(fileOffset, take)
        : this.#data.read(fileOffset, take);
      if (piece.length !== take) return null;
      out.set(piece, done);
      done += take;
      index++;
    }
    return out;
  }

  close(): void {
    this.#data.close();
    for (const other of this.#others) other.close();
  }
}
