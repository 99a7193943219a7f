// Virtual → physical translation results. Virtual addresses are bigint (canonical on x64);
// physical addresses are numbers. Every failure says why and at which level the walk stopped.

import type { PhysicalSpace } from '../image';

export type PagingMode = 'x86' | 'pae' | 'x64';

/** The table entry kinds, top to bottom: x64 uses all four, PAE the last three, x86 the last two. */
export type TableLevel = 'pml4e' | 'pdpte' | 'pde' | 'pte';

/** Where a walk stopped: a table entry, the final data page, or the address itself. */
export type WalkLevel = TableLevel | 'page' | 'va';

export type TranslationFailureReason =
  /** The entry is zero. */
  | 'not-present'
  /** A software PTE for a page in a page file, or demand-zero (spec §2.1). */
  | 'paged-out'
  /** Prototype PTE (bit 10): needs the section's prototype PTE, which a RAM image does not resolve. */
  | 'prototype'
  /** Transition PTE whose frame lies beyond the image's highest physical address. */
  | 'transition-out-of-range'
  /** The table or the data page is not in the image (a hole). */
  | 'no-physical-page'
  /** Non-canonical x64 address, or above 4 GiB in a 32-bit mode. */
  | 'non-canonical';

export interface Mapped {
  readonly ok: true;
  readonly pa: number;
  /** 4 KiB, or the large page: 4 MiB (x86), 2 MiB (PAE/x64), 1 GiB (x64). */
  readonly pageSize: number;
  /** Some entry on the way was a transition PTE (bit 0 clear, bit 11 set, bit 10 clear). */
  readonly viaTransition: boolean;
}

export interface Unmapped {
  readonly ok: false;
  readonly reason: TranslationFailureReason;
  readonly level: WalkLevel;
  /** The raw entry where the walk stopped, when one was read. */
  readonly entry?: bigint;
  /** For 'no-physical-page': the physical address that is missing. */
  readonly pa?: number;
  /** For 'paged-out': page-file number and page offset from the software PTE; offset 0 is demand-zero. */
  readonly pageFile?: { readonly index: number; readonly pageOffset: number };
}

export type Translation = Mapped | Unmapped;

export type VirtualRead =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | {
      readonly ok: false;
      /** First virtual address that could not be read. */ readonly va: bigint;
      readonly failure: Unmapped;
    };

export interface PartialRead {
  /** The readable prefix of the request. */
  readonly bytes: Uint8Array;
  /** Why the read stopped early; absent when the whole range was read. */
  readonly failure?: { readonly va: bigint; readonly failure: Unmapped };
}

/** What paging needs from the physical layer. */
export type PhysicalReader = Pick<PhysicalSpace, 'read' | 'isPresent' | 'maxAddress'>;

/** One mapped page or large page found by walking the tables. */
export interface PageMapping {
  readonly va: bigint;
  readonly pa: number;
  readonly size: number;
  readonly viaTransition: boolean;
  /** Whether the first byte of the frame is in the image. */
  readonly inImage: boolean;
}

export interface MappingWalkOptions {
  /** Top-level table indices not to descend into, e.g. the x64 self-map slot. */
  readonly skipTopLevel?: readonly number[];
  /** Stop after this many callbacks (default 4,194,304). */
  readonly maxMappings?: number;
  /** Stop after reading this many tables (default 65,536). */
  readonly maxTables?: number;
}

export interface MappingWalkResult {
  readonly mappings: number;
  readonly tablesVisited: number;
  /** Tables whose page is not in the image: their subtrees were skipped. */
  readonly missingTables: number;
  /** Tables of 512/1024 copies of one non-zero entry, treated as invalid (spec §2.1, `V3:layers/intel.py`). */
  readonly invalidTables: number;
  /** Set when a cap ended the walk early. */
  readonly truncated?: 'max-mappings' | 'max-tables';
  /** The callback returned false. */
  readonly stopped: boolean;
}
