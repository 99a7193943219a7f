// A virtual address space over a physical one: translation with a small bounded cache, reads
// that name the first unreadable address, and a bounded walk over every mapping.

import { MAX_PHYSICAL_READ } from '../image';
import { vaToNumber } from './address';
import { forEachMapping } from './enumerate';
import { MODES, normaliseDtb, PAGE, type ModeSpec } from './modes';
import type {
  MappingWalkOptions,
  MappingWalkResult,
  PageMapping,
  PagingMode,
  PartialRead,
  PhysicalReader,
  Translation,
  Unmapped,
  VirtualRead,
} from './types';
import { walk } from './walk';

export interface VirtualSpaceOptions {
  readonly mode: PagingMode;
  /** CR3 / DirectoryTableBase as found; normalised per mode (spec §2.1). */
  readonly dtb: number;
  /** Translations remembered per 4 KiB page (default 4096). */
  readonly cacheEntries?: number;
}

interface CachedPage {
  readonly frame: number;
  readonly pageSize: number;
  readonly viaTransition: boolean;
}

export class VirtualSpace {
  readonly mode: PagingMode;
  /** The DTB as given. */
  readonly dtb: number;
  /** The top-level table's physical address after normalisation. */
  readonly tableBase: number;
  readonly #spec: ModeSpec;
  readonly #cache = new Map<number, CachedPage>();
  readonly #cacheEntries: number;
  #hits = 0;
  #misses = 0;

  constructor(
    readonly physical: PhysicalReader,
    options: VirtualSpaceOptions,
  ) {
    this.mode = options.mode;
    this.#spec = MODES[options.mode];
    this.dtb = options.dtb;
    this.tableBase = normaliseDtb(options.dtb, options.mode);
    this.#cacheEntries = Math.max(1, options.cacheEntries ?? 4096);
  }

  get cacheStats(): { readonly hits: number; readonly misses: number; readonly size: number } {
    return { hits: this.#hits, misses: this.#misses, size: this.#cache.size };
  }

  clearCache(): void {
    this.#cache.clear();
  }

  translate(va: bigint): Translation {
    const value = vaToNumber(va, this.mode);
    if (value === null) return { ok: false, reason: 'non-canonical', level: 'va' };
    const pageNumber = Math.floor(value / PAGE);
    const cached = this.#cache.get(pageNumber);
    if (cached !== undefined) {
      this.#hits++;
      return {
        ok: true,
        pa: cached.frame + (value % PAGE),
        pageSize: cached.pageSize,
        viaTransition: cached.viaTransition,
      };
    }
    this.#misses++;
    const result = walk(this.physical, this.#spec, this.tableBase, value);
    if (result.ok) {
      if (this.#cache.size >= this.#cacheEntries)
        this.#cache.delete(this.#cache.keys().next().value as number);
      this.#cache.set(pageNumber, {
        frame: result.pa - (value % PAGE),
        pageSize: result.pageSize,
        viaTransition: result.viaTransition,
      });
    }
    return result;
  }

  /** All `length` bytes at `va`, or the first address that could not be read and why. */
  read(va: bigint, length: number): VirtualRead {
    const partial = this.readPartial(va, length);
    if (partial.failure === undefined) return { ok: true, bytes: partial.bytes };
    return { ok: false, va: partial.failure.va, failure: partial.failure.failure };
  }

  /** As many bytes from `va` as can be read before the first unreadable one. */
  readPartial(va: bigint, length: number): PartialRead {
    if (!Number.isSafeInteger(length) || length < 0 || length > MAX_PHYSICAL_READ)
      throw new RangeError(`virtual read length must be 0..${MAX_PHYSICAL_READ}: ${length}`);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = va + BigInt(done);
      const translation = this.translate(at);
      if (!translation.ok) return this.#stopped(out, done, at, translation);
      const inPage = PAGE - (translation.pa % PAGE);
      const take = Math.min(length - done, inPage);
      const bytes = this.physical.read(translation.pa, take);
      if (bytes === null)
        return this.#stopped(out, done, at, {
          ok: false,
          reason: 'no-physical-page',
          level: 'page',
          pa: translation.pa,
        });
      out.set(bytes, done);
      done += take;
    }
    return { bytes: out };
  }

  /**
   * Calls `callback` for every mapped page or large page overlapping [vaStart, vaEnd), in VA order,
   * by walking the tables. Bounded: see `MappingWalkOptions`. Return false from the callback to stop.
   */
  forEachMapping(
    vaStart: bigint,
    vaEnd: bigint,
    callback: (mapping: PageMapping) => boolean | void,
    options: MappingWalkOptions = {},
  ): MappingWalkResult {
    return forEachMapping(this.physical, this.#spec, this.tableBase, vaStart, vaEnd, callback, options);
  }

  #stopped(out: Uint8Array, done: number, va: bigint, failure: Unmapped): PartialRead {
    return { bytes: out.slice(0, done), failure: { va, failure } };
  }
}
