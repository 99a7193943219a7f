// A deliberately small, independent reader for the tests' ground-truth checks: reads a raw image
// file and translates kernel virtual addresses with the spec's page walks (§2.2–§2.4). It shares
// no code with the builder or the engine.

import { closeSync, openSync, readSync } from 'node:fs';

export type Paging = 'x64' | 'pae' | 'x86';

export class RawImage {
  private readonly fd: number;

  constructor(path: string) {
    this.fd = openSync(path, 'r');
  }

  close(): void {
    closeSync(this.fd);
  }

  read(pa: number, length: number): Buffer {
    const out = Buffer.alloc(length);
    readSync(this.fd, out, 0, length, pa);
    return out;
  }

  u64(pa: number): bigint {
    return this.read(pa, 8).readBigUInt64LE(0);
  }

  u32(pa: number): number {
    return this.read(pa, 4).readUInt32LE(0);
  }
}

/** Physical address of `va`, or null when a level's entry is not present. */
export function translate(image: RawImage, paging: Paging, dtb: number, va: bigint): number | null {
  if (paging === 'x86') {
    const pde = image.u32(dtb + Number((va >> 22n) & 0x3ffn) * 4);
    if (!(pde & 1)) return null;
    if (pde & 0x80) return (pde & 0xffc00000) + Number(va & 0x3fffffn);
    const pte = image.u32((pde & 0xfffff000) + Number((va >> 12n) & 0x3ffn) * 4);
    // A transition PTE (Valid clear, Transition bit 11 set, Prototype bit 10 clear) keeps its frame (§2.1).
    if (!(pte & 1) && !((pte & 0x800) !== 0 && (pte & 0x400) === 0)) return null;
    return (pte & 0xfffff000) + Number(va & 0xfffn);
  }
  const frame = 0x000ffffffffff000n;
  const levels = paging === 'x64' ? [39n, 30n, 21n, 12n] : [30n, 21n, 12n];
  let table = BigInt(paging === 'pae' ? dtb & ~0x1f : dtb);
  for (let i = 0; i < levels.length; i++) {
    const shift = levels[i]!;
    const bits = paging === 'pae' && i === 0 ? 3n : 0x1ffn;
    const entry = image.u64(Number(table + ((va >> shift) & bits) * 8n));
    const last = i === levels.length - 1;
    const transition = last && (entry & 0x800n) !== 0n && (entry & 0x400n) === 0n;
    if (!(entry & 1n) && !transition) return null;
    const largeLevel = paging === 'x64' ? i === 1 || i === 2 : i === 1;
    if (!last && largeLevel && entry & 0x80n) {
      const size = 1n << shift;
      return Number((entry & frame & ~(size - 1n)) + (va & (size - 1n)));
    }
    table = entry & frame;
  }
  return Number(table + (va & 0xfffn));
}

export class VirtualReader {
  constructor(
    readonly image: RawImage,
    readonly paging: Paging,
    readonly dtb: number,
  ) {}

  get pointerSize(): 4 | 8 {
    return this.paging === 'x64' ? 8 : 4;
  }

  pa(va: bigint): number | null {
    return translate(this.image, this.paging, this.dtb, va);
  }

  read(va: bigint, length: number): Buffer | null {
    const out = Buffer.alloc(length);
    for (let done = 0; done < length;) {
      const at = va + BigInt(done);
      const chunk = Math.min(0x1000 - Number(at & 0xfffn), length - done);
      const pa = this.pa(at);
      if (pa === null) return null;
      this.image.read(pa, chunk).copy(out, done);
      done += chunk;
    }
    return out;
  }

  ptr(va: bigint): bigint | null {
    const bytes = this.read(va, this.pointerSize);
    if (!bytes) return null;
    return this.pointerSize === 8 ? bytes.readBigUInt64LE(0) : BigInt(bytes.readUInt32LE(0));
  }

  u16(va: bigint): number | null {
    return this.read(va, 2)?.readUInt16LE(0) ?? null;
  }

  u32(va: bigint): number | null {
    return this.read(va, 4)?.readUInt32LE(0) ?? null;
  }

  /** UNICODE_STRING at `va` → its text, or null when the string's buffer is not readable. */
  unicodeString(va: bigint): string | null {
    const length = this.u16(va);
    const buffer = this.ptr(va + BigInt(this.pointerSize));
    if (length === null || buffer === null) return null;
    if (length === 0) return '';
    const bytes = this.read(buffer, length);
    return bytes ? bytes.toString('utf16le') : null;
  }
}
