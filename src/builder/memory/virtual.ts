// Kernel virtual memory as the builder writes it: every write goes through the image's own
// page tables, so what the builder records is exactly what a reader translating the image finds.

import { BuildError } from '../errors';
import type { Rng } from '../rng';
import type { MapOptions, PageTables, SoftwarePte } from './page-tables';
import { PAGE, type PhysicalMemory } from './physical';

export class VirtualMemory {
  constructor(
    readonly phys: PhysicalMemory,
    readonly tables: PageTables,
    private readonly rng: Rng,
  ) {}

  get pointerSize(): 4 | 8 {
    return this.tables.mode === 'x64' ? 8 : 4;
  }

  /** Backs [va, va + size) with fresh random frames (zeroed), page by page. */
  mapFresh(va: bigint, size: number, options: MapOptions): number[] {
    const frames: number[] = [];
    for (let offset = 0; offset < size; offset += PAGE) {
      const pfn = this.phys.allocate(this.rng);
      this.phys.zeroPage(pfn);
      this.tables.map(va + BigInt(offset), pfn, options);
      frames.push(pfn);
    }
    return frames;
  }

  mapFrame(va: bigint, pfn: number, options: MapOptions): void {
    this.tables.map(va, pfn, options);
  }

  markNotResident(va: bigint, pte: SoftwarePte): void {
    this.tables.setSoftware(va, pte);
  }

  pa(va: bigint): number {
    const pa = this.tables.translate(va);
    if (pa === null) throw new BuildError(`internal: VA 0x${va.toString(16)} is not mapped`);
    return pa;
  }

  isMapped(va: bigint): boolean {
    return this.tables.translate(va) !== null;
  }

  write(va: bigint, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const at = va + BigInt(done);
      const inPage = PAGE - Number(at & 0xfffn);
      const chunk = Math.min(inPage, bytes.length - done);
      this.phys.write(this.pa(at), bytes.subarray(done, done + chunk));
      done += chunk;
    }
  }

  read(va: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = va + BigInt(done);
      const chunk = Math.min(PAGE - Number(at & 0xfffn), length - done);
      out.set(this.phys.read(this.pa(at), chunk), done);
      done += chunk;
    }
    return out;
  }

  writePtr(va: bigint, value: bigint): void {
    if (this.pointerSize === 8) this.phys.writeU64(this.pa(va), value);
    else this.phys.writeU32(this.pa(va), Number(value & 0xffffffffn));
  }

  readPtr(va: bigint): bigint {
    return this.pointerSize === 8 ? this.phys.readU64(this.pa(va)) : BigInt(this.phys.readU32(this.pa(va)));
  }

  writeU32(va: bigint, value: number): void {
    this.phys.writeU32(this.pa(va), value);
  }

  writeU64(va: bigint, value: bigint): void {
    this.phys.writeU64(this.pa(va), value);
  }

  writeU8(va: bigint, value: number): void {
    this.phys.write(this.pa(va), Uint8Array.of(value & 0xff));
  }
}
