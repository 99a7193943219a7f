// Kernel pool allocations with real POOL_HEADERs (spec §1.11): packed into pages with the
// PreviousSize/BlockSize chain of the classic allocator, or, on Windows 10 19H1+, preceded by a
// segment-heap VS chunk header so that headers are not contiguous (§4.2). Allocations larger
// than a page are "big pool": page aligned, with no header at all.

import { ByteWriter, alignUp } from '../bytes';
import type { KernelLayout } from '../layout/kernel-layout';
import type { Rng } from '../rng';
import { PAGE } from '../memory/physical';
import type { VirtualMemory } from '../memory/virtual';

export interface PoolBlock {
  /** VA of the POOL_HEADER. */
  headerVa: bigint;
  /** VA of the first byte after the header (what ExAllocatePool returns). */
  dataVa: bigint;
  /** Block size in bytes, header included. */
  blockSize: number;
}

export type PoolKind = 'nonpaged' | 'paged';

/** Tags seen everywhere in a live pool, used for the filler allocations between ours. */
const FILLER_TAGS = [
  'Irp ',
  'MmCa',
  'File',
  'Ntfx',
  'Even',
  'Vad ',
  'CcBc',
  'Key ',
  'Toke',
  'ObHd',
  'Sect',
  'FMfn',
  'Io  ',
  'Mdl ',
  'NtFs',
  'Thre',
  'SeTd',
  'Wait',
  'AlIn',
  'EtwB',
];

export class PoolRegion {
  private pageVa = 0n;
  private used = PAGE;
  private previousUnits = 0;
  private nextPageVa: bigint;
  readonly pages: bigint[] = [];
  private readonly headerSize: number;
  private readonly unit: number;

  constructor(
    private readonly vm: VirtualMemory,
    private readonly layout: KernelLayout,
    private readonly rng: Rng,
    readonly kind: PoolKind,
    readonly baseVa: bigint,
    private readonly fillers = true,
  ) {
    this.headerSize = layout.pointerSize === 8 ? 16 : 8;
    this.unit = this.headerSize;
    this.nextPageVa = baseVa;
  }

  /** Stored PoolType: XP/2003 odd = nonpaged (type + 1); Vista+ even = nonpaged, odd = paged (spec §1.11). */
  private poolTypeValue(free: boolean): number {
    if (free) return 0;
    const legacy = this.layout.version.build < 6000;
    if (this.kind === 'nonpaged') return legacy ? 1 : 2;
    return legacy ? 2 : 3;
  }

  private newPage(): void {
    this.closePage();
    // Pool pages are scattered: leave an occasional unmapped gap between them.
    this.nextPageVa += BigInt(PAGE * (this.rng.chance(0.15) ? this.rng.int(1, 6) : 0));
    this.pageVa = this.nextPageVa;
    this.nextPageVa += BigInt(PAGE);
    this.vm.mapFresh(this.pageVa, PAGE, { writable: true });
    this.pages.push(this.pageVa);
    this.used = 0;
    this.previousUnits = 0;
  }

  /** Ends the current page with a free block covering the rest of it. */
  private closePage(): void {
    if (this.pageVa === 0n || this.used >= PAGE) return;
    const rest = PAGE - this.used;
    if (rest >= this.headerSize) {
      const stale = this.rng.pick(FILLER_TAGS);
      this.writeHeader(this.pageVa + BigInt(this.used), rest, stale, true);
    }
    this.used = PAGE;
  }

  private writeHeader(at: bigint, blockSize: number, tag: string | Uint8Array, free: boolean): void {
    const units = blockSize / this.unit;
    const previous = this.layout.segmentHeap ? 0 : this.previousUnits;
    const w = new ByteWriter(this.headerSize, this.layout.pointerSize);
    if (this.layout.pointerSize === 8) {
      // byte0 PreviousSize, byte1 PoolIndex, byte2 BlockSize, byte3 PoolType, u32 PoolTag, ptr ProcessBilled.
      w.u8(0, previous).u8(1, 0).u8(2, units).u8(3, this.poolTypeValue(free));
    } else {
      // u16 PreviousSize:9 | PoolIndex:7, u16 BlockSize:9 | PoolType:7, u32 PoolTag.
      w.u16(0, previous & 0x1ff).u16(2, (units & 0x1ff) | (this.poolTypeValue(free) << 9));
    }
    w.set(4, typeof tag === 'string' ? tagBytes(tag) : tag);
    this.vm.write(at, w.bytes);
    this.previousUnits = units;
  }

  /** A small filler allocation with a common tag and some content, as in any live pool. */
  private filler(): void {
    const size = alignUp(this.rng.int(0x18, 0x180), this.unit);
    this.place(this.rng.pick(FILLER_TAGS), size, (dataVa, length) => {
      this.vm.write(dataVa, this.rng.bytes(Math.min(length, 0x40)));
    });
  }

  private place(
    tag: string | Uint8Array,
    dataSize: number,
    fill?: (dataVa: bigint, length: number) => void,
  ): PoolBlock {
    const chunkHeader = this.layout.segmentHeap ? 16 : 0;
    const blockSize = alignUp(this.headerSize + dataSize, this.unit);
    if (this.used + chunkHeader + blockSize > PAGE) this.newPage();
    if (chunkHeader) {
      // _HEAP_VS_CHUNK_HEADER: encoded with the heap key, so it reads as noise (§4.2).
      this.vm.write(this.pageVa + BigInt(this.used), this.rng.bytes(chunkHeader));
      this.used += chunkHeader;
    }
    const headerVa = this.pageVa + BigInt(this.used);
    this.writeHeader(headerVa, blockSize, tag, false);
    this.used += blockSize;
    const block = { headerVa, dataVa: headerVa + BigInt(this.headerSize), blockSize };
    fill?.(block.dataVa, blockSize - this.headerSize);
    return block;
  }

  /** Allocates `dataSize` bytes tagged `tag`; returns the block (data zeroed). */
  allocate(tag: string | Uint8Array, dataSize: number): PoolBlock {
    const maximum = PAGE - this.headerSize - (this.layout.segmentHeap ? 16 : 0);
    if (this.headerSize + dataSize > maximum)
      throw new Error(`pool block of ${dataSize} bytes needs allocateBig`);
    if (this.fillers) {
      const count = this.rng.chance(0.5) ? this.rng.int(0, 2) : 0;
      for (let i = 0; i < count; i++) this.filler();
    }
    return this.place(tag, dataSize);
  }

  /** A freed block: PoolType 0, content left as it was (stale data survives in freed pool). */
  allocateFreed(tag: string | Uint8Array, dataSize: number): PoolBlock {
    const block = this.allocate(tag, dataSize);
    const w = new ByteWriter(this.headerSize, this.layout.pointerSize);
    const header = this.vm.read(block.headerVa, this.headerSize);
    w.set(0, header);
    if (this.layout.pointerSize === 8) w.u8(3, 0);
    else w.u16(2, header[2]! | ((header[3]! & 0x01) << 8));
    this.vm.write(block.headerVa, w.bytes);
    return block;
  }

  /** A page-aligned allocation of one or more pages, without a pool header (big pool). */
  allocateBig(size: number): bigint {
    this.closePage();
    const pages = Math.ceil(size / PAGE);
    const va = this.nextPageVa + BigInt(PAGE * this.rng.int(0, 3));
    this.vm.mapFresh(va, pages * PAGE, { writable: true });
    for (let i = 0; i < pages; i++) this.pages.push(va + BigInt(i * PAGE));
    this.nextPageVa = va + BigInt(pages * PAGE);
    return va;
  }

  finish(): void {
    this.closePage();
  }
}

/** Pool tag bytes; a 4th character above 0x7F encodes the protected bit (e.g. "Dri\xF6"). */
export function tagBytes(tag: string): Uint8Array {
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) out[i] = (tag.charCodeAt(i) || 0x20) & 0xff;
  return out;
}

/** The tag the object manager uses for objects of a type: its Key, protected before Windows 8 (§1.11). */
export function objectTag(key: string, protectedTags: boolean): string {
  const base = key.padEnd(4, ' ').slice(0, 4);
  if (!protectedTags) return base;
  return base.slice(0, 3) + String.fromCharCode(base.charCodeAt(3) | 0x80);
}
