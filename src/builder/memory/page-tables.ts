// Page tables as Windows lays them out (spec §2): x64 4-level with a self-referencing PML4
// entry, x86 2-level with the PD mapped at 0xC0300000 (PDE 0x300), and x86 PAE with the PDPT
// in its own page followed by its four page directories, PD 3 mapping all four at 0xC0600000.

import { BuildError } from '../errors';
import type { Rng } from '../rng';
import { PAGE, type PhysicalMemory } from './physical';

export type PagingMode = 'x64' | 'pae' | 'x86';

export interface MapOptions {
  writable?: boolean;
  executable?: boolean;
  user?: boolean;
  global?: boolean;
}

/** A PTE whose Valid bit is clear, in one of the Windows software formats (spec §2.1). */
export type SoftwarePte =
  | { kind: 'pagefile'; pageFile: number; offsetPages: number; protection: number }
  | { kind: 'transition'; pfn: number; protection: number }
  | { kind: 'demand-zero'; protection: number };

/** MM_READWRITE, the usual protection of kernel data pages. */
export const MM_READWRITE = 4;
export const MM_EXECUTE_READ = 3;

const P = 0x1n;
const RW = 0x2n;
const US = 0x4n;
const A = 0x20n;
const D = 0x40n;
const PS = 0x80n;
const G = 0x100n;
const NX = 1n << 63n;
const TRANSITION = 1n << 11n;

interface Level {
  shift: number;
  bits: number;
}

const LEVELS: Record<PagingMode, Level[]> = {
  x64: [
    { shift: 39, bits: 9 },
    { shift: 30, bits: 9 },
    { shift: 21, bits: 9 },
    { shift: 12, bits: 9 },
  ],
  pae: [
    { shift: 30, bits: 2 },
    { shift: 21, bits: 9 },
    { shift: 12, bits: 9 },
  ],
  x86: [
    { shift: 22, bits: 10 },
    { shift: 12, bits: 10 },
  ],
};

export class PageTables {
  readonly entrySize: 4 | 8;
  readonly levels: Level[];
  /** CR3: physical address of the PML4 / PDPT / PD. */
  readonly dtb: number;
  /** Index of the self-map entry in the top-level table (x64), or PD index (x86: 0x300, PAE: PD3[3]). */
  readonly selfMapIndex: number;
  private readonly frameMask: bigint;

  constructor(
    private readonly phys: PhysicalMemory,
    private readonly rng: Rng,
    readonly mode: PagingMode,
    placement: { dtbPfn: number; selfMapIndex?: number },
  ) {
    this.entrySize = mode === 'x86' ? 4 : 8;
    this.levels = LEVELS[mode];
    this.frameMask = mode === 'x86' ? 0xfffff000n : 0x000ffffffffff000n;
    this.dtb = placement.dtbPfn * PAGE;
    if (mode === 'pae') {
      // PDPT page then its four PDs in the next four pages (MemProcFS' PAE DTB rule, spec §3.1 item 4).
      for (let k = 0; k <= 4; k++) this.phys.zeroPage(placement.dtbPfn + k);
      for (let k = 0; k < 4; k++) this.writeEntry(this.dtb + k * 8, BigInt(this.dtb + (k + 1) * PAGE) | P);
      const pd3 = this.dtb + 4 * PAGE;
      for (let k = 0; k < 4; k++)
        this.writeEntry(pd3 + k * 8, BigInt(this.dtb + (k + 1) * PAGE) | P | RW | A | D);
      this.selfMapIndex = 3;
    } else {
      this.phys.zeroPage(placement.dtbPfn);
      this.selfMapIndex = placement.selfMapIndex ?? (mode === 'x86' ? 0x300 : 0x1ed);
      const self = BigInt(this.dtb) | P | RW | A | D | (mode === 'x64' ? NX : 0n);
      this.writeEntry(this.dtb + this.selfMapIndex * this.entrySize, self);
    }
  }

  /** Base VA of the page-table self-map (where PTEs of the whole space are visible). */
  get pteBase(): bigint {
    if (this.mode === 'x64') return canonical(BigInt(this.selfMapIndex) << 39n);
    return 0xc0000000n;
  }

  private readEntry(pa: number): bigint {
    return this.entrySize === 8 ? this.phys.readU64(pa) : BigInt(this.phys.readU32(pa));
  }

  private writeEntry(pa: number, value: bigint): void {
    if (this.entrySize === 8) this.phys.writeU64(pa, value);
    else this.phys.writeU32(pa, Number(value & 0xffffffffn));
  }

  private index(va: bigint, level: Level): number {
    return Number((va >> BigInt(level.shift)) & ((1n << BigInt(level.bits)) - 1n));
  }

  private checkVa(va: bigint): void {
    if (this.mode === 'x64') {
      if (canonical(va & 0xffffffffffffn) !== va)
        throw new BuildError(`non-canonical VA 0x${va.toString(16)}`);
    } else if (va < 0n || va > 0xffffffffn) {
      throw new BuildError(`VA 0x${va.toString(16)} out of the 32-bit space`);
    }
  }

  /** Walks to the table at `depth` for `va`, creating missing tables; returns the entry's PA. */
  private entryAddress(va: bigint, depth: number): number {
    this.checkVa(va);
    let table = this.dtb;
    for (let d = 0; d < depth; d++) {
      const level = this.levels[d]!;
      const at = table + this.index(va, level) * this.entrySize;
      let entry = this.readEntry(at);
      if ((entry & P) === 0n) {
        if (this.mode === 'pae' && d === 0) throw new BuildError('PAE PDPT entries are fixed');
        const pfn = this.phys.allocate(this.rng);
        this.phys.zeroPage(pfn);
        const user = va < this.userLimit ? US : 0n;
        entry = BigInt(pfn * PAGE) | P | RW | A | D | user;
        this.writeEntry(at, entry);
      } else if ((entry & PS) !== 0n && this.largeAllowed(d)) {
        throw new BuildError(`VA 0x${va.toString(16)} is inside a large page`);
      }
      table = Number(entry & this.frameMask);
    }
    return table + this.index(va, this.levels[depth]!) * this.entrySize;
  }

  /** Levels whose entries may map a large page: PDPTE/PDE on x64, PDE on PAE and x86. */
  private largeAllowed(depth: number): boolean {
    if (this.mode === 'x64') return depth === 1 || depth === 2;
    return depth === this.levels.length - 2;
  }

  private get userLimit(): bigint {
    return this.mode === 'x64' ? 0x800000000000n : 0x80000000n;
  }

  private leafFlags(options: MapOptions, large: boolean): bigint {
    let flags = P | A;
    if (options.writable) flags |= RW | D;
    if (options.user) flags |= US;
    if (options.global ?? !options.user) flags |= G;
    if (large) flags |= PS;
    if (!options.executable && this.mode !== 'x86') flags |= NX;
    return flags;
  }

  map(va: bigint, pfn: number, options: MapOptions = {}): void {
    const at = this.entryAddress(va, this.levels.length - 1);
    this.writeEntry(at, BigInt(pfn * PAGE) | this.leafFlags(options, false));
  }

  /** Large page: 2 MiB (x64, PAE) or 4 MiB (x86). `pfn` must be aligned to it. */
  mapLarge(va: bigint, pfn: number, options: MapOptions = {}): void {
    const at = this.entryAddress(va, this.levels.length - 2);
    this.writeEntry(at, BigInt(pfn * PAGE) | this.leafFlags(options, true));
  }

  get largePageSize(): number {
    return this.mode === 'x86' ? 0x400000 : 0x200000;
  }

  setSoftware(va: bigint, pte: SoftwarePte): void {
    const at = this.entryAddress(va, this.levels.length - 1);
    this.writeEntry(at, this.encodeSoftware(pte));
  }

  private encodeSoftware(pte: SoftwarePte): bigint {
    const protection = BigInt(pte.protection & 0x1f) << 5n;
    switch (pte.kind) {
      case 'transition':
        return BigInt(pte.pfn * PAGE) | TRANSITION | protection;
      case 'demand-zero':
        return protection;
      case 'pagefile':
        if (this.mode === 'x86') {
          // x86 non-PAE: PageFileLow bits 1–4, Protection 5–9, PageFileHigh bits 12–31.
          return (BigInt(pte.offsetPages & 0xfffff) << 12n) | (BigInt(pte.pageFile & 0xf) << 1n) | protection;
        }
        // x64 / PAE: PageFileLow bits 1–4, Protection 5–9, PageFileHigh in the upper 32 bits.
        return (BigInt(pte.offsetPages >>> 0) << 32n) | (BigInt(pte.pageFile & 0xf) << 1n) | protection;
    }
  }

  /** Physical address of `va`, or null when it is not mapped by a valid entry. */
  translate(va: bigint): number | null {
    let table = this.dtb;
    for (let d = 0; d < this.levels.length; d++) {
      const level = this.levels[d]!;
      const entry = this.readEntry(table + this.index(va, level) * this.entrySize);
      if ((entry & P) === 0n) return null;
      const last = d === this.levels.length - 1;
      if (!last && this.largeAllowed(d) && (entry & PS) !== 0n) {
        const size = 1n << BigInt(level.shift);
        const base = entry & this.frameMask & ~(size - 1n);
        return Number(base | (va & (size - 1n)));
      }
      table = Number(entry & this.frameMask);
      if (last) return table + Number(va & 0xfffn);
    }
    return null;
  }

  /** Whether a reader can get the bytes of `va`: valid or transition PTE, or not. */
  residency(va: bigint): 'present' | 'transition' | 'paged-out' | 'unmapped' {
    let table = this.dtb;
    for (let d = 0; d < this.levels.length; d++) {
      const level = this.levels[d]!;
      const entry = this.readEntry(table + this.index(va, level) * this.entrySize);
      const last = d === this.levels.length - 1;
      if ((entry & P) === 0n) {
        if (!last || entry === 0n) return 'unmapped';
        if ((entry & TRANSITION) !== 0n && (entry & (1n << 10n)) === 0n) return 'transition';
        return 'paged-out';
      }
      if (!last && this.largeAllowed(d) && (entry & PS) !== 0n) return 'present';
      table = Number(entry & this.frameMask);
    }
    return 'present';
  }

  /** A new top-level table for a process that shares this kernel half (call after all kernel mappings). */
  forkKernelHalf(dtbPfn: number): PageTables {
    const child = new PageTables(this.phys, this.rng, this.mode, { dtbPfn, selfMapIndex: this.selfMapIndex });
    if (this.mode === 'x64') {
      for (let i = 256; i < 512; i++) {
        if (i === this.selfMapIndex) continue;
        this.phys.writeU64(child.dtb + i * 8, this.phys.readU64(this.dtb + i * 8));
      }
    } else if (this.mode === 'x86') {
      for (let i = 0x200; i < 0x400; i++) {
        if (i === 0x300) continue;
        this.phys.writeU32(child.dtb + i * 4, this.phys.readU32(this.dtb + i * 4));
      }
    } else {
      for (let pd = 2; pd < 4; pd++) {
        for (let i = 0; i < 512; i++) {
          if (pd === 3 && i < 4) continue;
          const from = this.dtb + (pd + 1) * PAGE + i * 8;
          this.phys.writeU64(child.dtb + (pd + 1) * PAGE + i * 8, this.phys.readU64(from));
        }
      }
    }
    return child;
  }
}

export function canonical(va: bigint): bigint {
  const low = va & 0xffffffffffffn;
  return (low & 0x800000000000n) !== 0n ? low | 0xffff000000000000n : low;
}
