// Deterministic pseudo-random streams. Every decision the builder makes draws from a stream
// derived from the user's seed and a label, so adding a feature to one part of the image does
// not shift the choices made in another.

import { createHash } from 'node:crypto';

function hashToWords(text: string): [number, number, number, number] {
  const digest = createHash('sha256').update(text).digest();
  return [digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12)];
}

/** sfc32: a small, fast generator with a 128-bit state (public domain, by Chris Doty-Humphrey). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(
    private readonly seedText: string,
    label = 'root',
  ) {
    [this.a, this.b, this.c, this.d] = hashToWords(`${seedText}/${label}`);
    for (let i = 0; i < 12; i++) this.next();
  }

  /** An independent stream for a named part of the build. */
  fork(label: string): Rng {
    return new Rng(this.seedText, label);
  }

  /** Uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  float(): number {
    return this.next() / 4294967296;
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  u64(): bigint {
    return (BigInt(this.next()) << 32n) | BigInt(this.next());
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)] as T;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.next() & 0xff;
    return out;
  }

  /** A GUID-like 16-byte value. */
  guid(): Uint8Array {
    return this.bytes(16);
  }
}
