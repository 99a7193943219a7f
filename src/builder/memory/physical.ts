// The machine's physical memory as the builder lays it out: RAM runs with the usual holes,
// pages with explicit content (kept in memory), pages whose content is generated on demand
// (kernel and driver code, kept as a generator), and free pages that the writer fills with noise.

import { BuildError } from '../errors';
import type { Rng } from '../rng';

export const PAGE = 0x1000;

export interface RamRun {
  start: number;
  end: number;
}

export type PageGenerator = (out: Uint8Array) => void;

/** RAM runs of a PC with `ramBytes` of memory: the low 640 KiB, then 1 MiB up, with the PCI hole below 4 GiB. */
export function pcRamRuns(ramBytes: number): RamRun[] {
  const runs: RamRun[] = [{ start: 0x1000, end: 0x9f000 }];
  const lowTop = 0xc0000000;
  runs.push({ start: 0x100000, end: Math.min(ramBytes, lowTop) });
  if (ramBytes > lowTop) runs.push({ start: 0x100000000, end: 0x100000000 + (ramBytes - lowTop) });
  return runs;
}

export class PhysicalMemory {
  readonly runs: readonly RamRun[];
  readonly maxAddress: number;
  private readonly explicit = new Map<number, Uint8Array>();
  private readonly generators = new Map<number, PageGenerator>();
  private readonly used: Uint8Array;
  private readonly pfnCount: number;
  private allocatedPages = 0;

  /** Background of a free page that gets written to (stray bytes in otherwise unused memory). */
  noise: ((out: Uint8Array, pa: number) => void) | null = null;

  constructor(ramBytes: number) {
    this.runs = pcRamRuns(ramBytes);
    this.maxAddress = this.runs[this.runs.length - 1]!.end;
    this.pfnCount = this.maxAddress / PAGE;
    this.used = new Uint8Array(Math.ceil(this.pfnCount / 8));
    // Pages outside RAM (page 0, the VGA/BIOS hole) are never handed out.
    for (let pfn = 0; pfn < 0x100; pfn++) if (!this.isRam(pfn)) this.markUsed(pfn);
    this.allocatedPages = 0;
  }

  get ramPages(): number {
    return this.runs.reduce((n, r) => n + (r.end - r.start) / PAGE, 0);
  }

  get usedPages(): number {
    return this.allocatedPages;
  }

  isRam(pfn: number): boolean {
    const pa = pfn * PAGE;
    return this.runs.some((r) => pa >= r.start && pa < r.end);
  }

  isUsed(pfn: number): boolean {
    return (this.used[pfn >> 3]! & (1 << (pfn & 7))) !== 0;
  }

  markUsed(pfn: number): void {
    if (!this.isUsed(pfn)) {
      this.used[pfn >> 3]! |= 1 << (pfn & 7);
      this.allocatedPages++;
    }
  }

  /** A random free RAM frame, at or above `minPa`. */
  allocate(rng: Rng, minPa = 0x100000): number {
    const low = Math.ceil(minPa / PAGE);
    for (let attempt = 0; attempt < 64; attempt++) {
      const pfn = rng.int(low, this.pfnCount - 1);
      if (!this.isUsed(pfn) && this.isRam(pfn)) {
        this.markUsed(pfn);
        return pfn;
      }
    }
    const start = rng.int(low, this.pfnCount - 1);
    for (let i = 0; i < this.pfnCount - low; i++) {
      const pfn = low + ((start - low + i) % (this.pfnCount - low));
      if (!this.isUsed(pfn) && this.isRam(pfn)) {
        this.markUsed(pfn);
        return pfn;
      }
    }
    throw new BuildError('the image size is too small for its content (physical memory exhausted)');
  }

  /** `count` free contiguous frames aligned to `alignPages`, searched from a random start within [minPa, maxPa). */
  allocateContiguous(
    rng: Rng,
    count: number,
    alignPages: number,
    minPa: number,
    maxPa = this.maxAddress,
  ): number {
    const first = Math.ceil(minPa / PAGE / alignPages) * alignPages;
    const last = Math.floor(maxPa / PAGE) - count;
    if (last < first)
      throw new BuildError('the image size is too small for its content (no contiguous room)');
    const slots = Math.floor((last - first) / alignPages) + 1;
    const startSlot = rng.int(0, slots - 1);
    for (let i = 0; i < slots; i++) {
      const base = first + ((startSlot + i) % slots) * alignPages;
      let free = true;
      for (let p = base; p < base + count && free; p++) free = !this.isUsed(p) && this.isRam(p);
      if (free) {
        for (let p = base; p < base + count; p++) this.markUsed(p);
        return base;
      }
    }
    throw new BuildError('the image size is too small for its content (no contiguous room)');
  }

  /** Reserves a specific frame (for placements real systems make at fixed addresses). */
  claim(pfn: number): void {
    if (this.isUsed(pfn) || !this.isRam(pfn))
      throw new BuildError(`physical page ${pfn.toString(16)} is not free`);
    this.markUsed(pfn);
  }

  setGenerator(pfn: number, generator: PageGenerator): void {
    this.generators.set(pfn, generator);
  }

  private pageForWrite(pfn: number): Uint8Array {
    let page = this.explicit.get(pfn);
    if (!page) {
      page = new Uint8Array(PAGE);
      const generator = this.generators.get(pfn);
      if (generator) generator(page);
      else this.noise?.(page, pfn * PAGE);
      this.generators.delete(pfn);
      this.explicit.set(pfn, page);
    }
    return page;
  }

  write(pa: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const at = pa + done;
      const pfn = Math.floor(at / PAGE);
      const offset = at % PAGE;
      const chunk = Math.min(PAGE - offset, bytes.length - done);
      this.pageForWrite(pfn).set(bytes.subarray(done, done + chunk), offset);
      done += chunk;
    }
  }

  /** Zero-filled page with content to come (page tables, pool pages). */
  zeroPage(pfn: number): void {
    this.generators.delete(pfn);
    this.explicit.set(pfn, new Uint8Array(PAGE));
  }

  read(pa: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    const scratch = new Uint8Array(PAGE);
    while (done < length) {
      const at = pa + done;
      const pfn = Math.floor(at / PAGE);
      const offset = at % PAGE;
      const chunk = Math.min(PAGE - offset, length - done);
      if (this.contentOf(pfn, scratch)) out.set(scratch.subarray(offset, offset + chunk), done);
      done += chunk;
    }
    return out;
  }

  readU64(pa: number): bigint {
    const bytes = this.read(pa, 8);
    return new DataView(bytes.buffer).getBigUint64(0, true);
  }

  readU32(pa: number): number {
    const bytes = this.read(pa, 4);
    return new DataView(bytes.buffer).getUint32(0, true);
  }

  writeU64(pa: number, value: bigint): void {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    this.write(pa, bytes);
  }

  writeU32(pa: number, value: number): void {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, value >>> 0, true);
    this.write(pa, bytes);
  }

  /** Copies the content of a page that has one into `out`; false for a free (noise) page. */
  contentOf(pfn: number, out: Uint8Array): boolean {
    const page = this.explicit.get(pfn);
    if (page) {
      out.set(page);
      return true;
    }
    const generator = this.generators.get(pfn);
    if (generator) {
      out.fill(0);
      generator(out);
      return true;
    }
    return false;
  }

  hasContent(pfn: number): boolean {
    return this.explicit.has(pfn) || this.generators.has(pfn);
  }

  /** Memory held by explicit pages, for the builder's own memory budget. */
  get explicitBytes(): number {
    return this.explicit.size * PAGE;
  }
}
