// Reads fields of one structure instance out of bytes the caller already has, by name, through a
// profile: integers (bitfields decoded), pointers, UNICODE_STRING headers, raw field bytes.

import { ptr, u16, u32, u64, u64n, u8 } from '../util/bytes';
import type { FieldLayout, LayoutProfile, StructLayout } from './types';

export interface UnicodeStringValue {
  /** Bytes, not characters (§1.1). */
  readonly length: number;
  readonly maximumLength: number;
  readonly buffer: bigint;
}

export class StructReader {
  readonly #layout: StructLayout;

  constructor(
    readonly profile: LayoutProfile,
    readonly structName: string,
    readonly bytes: Uint8Array,
    /** Where the structure starts in `bytes`. */
    readonly base = 0,
  ) {
    this.#layout = profile.struct(structName);
  }

  #locate(name: string, index = 0, elementSize?: number): { at: number; field: FieldLayout } {
    const field = this.#layout.fields[name] ?? this.profile.field(this.structName, name);
    const size = elementSize ?? field.size;
    const at = this.base + field.offset + index * size;
    if (index < 0 || (field.count !== undefined && index >= field.count) || at + size > this.bytes.length) {
      throw new RangeError(
        `${this.structName}.${name}[${index}] (+0x${field.offset.toString(16)}, ${size} bytes) ` +
          `is outside the ${this.bytes.length - this.base} bytes read`,
      );
    }
    return { at, field };
  }

  /** An unsigned integer field of 1, 2, 4 or 8 bytes (8 must fit a number); bitfields decoded. */
  number(name: string): number {
    const { at, field } = this.#locate(name);
    if (field.size === 8) {
      if (field.bitLength === undefined) return u64n(this.bytes, at);
      const value =
        (u64(this.bytes, at) >> BigInt(field.bitPosition ?? 0)) & ((1n << BigInt(field.bitLength)) - 1n);
      return Number(value);
    }
    const unit =
      field.size === 1
        ? u8(this.bytes, at)
        : field.size === 2
          ? u16(this.bytes, at)
          : field.size === 4
            ? u32(this.bytes, at)
            : undefined;
    if (unit === undefined)
      throw new RangeError(`${this.structName}.${name}: ${field.size}-byte field is not an integer`);
    if (field.bitLength === undefined) return unit;
    // Up to 32-bit units: shift in floating point to stay unsigned.
    return Math.floor(unit / 2 ** (field.bitPosition ?? 0)) % 2 ** field.bitLength;
  }

  /** A pointer field, or element `index` of a pointer array (MajorFunction, HashBuckets). */
  pointer(name: string, index = 0): bigint {
    const { at } = this.#locate(name, index, this.profile.pointerSize);
    return ptr(this.bytes, at, this.profile.pointerSize);
  }

  /** A UNICODE_STRING field's header; the text itself lives at `buffer` and is read by the caller. */
  unicodeString(name: string): UnicodeStringValue {
    const { at } = this.#locate(name);
    const inner = new StructReader(this.profile, '_UNICODE_STRING', this.bytes, at);
    return {
      length: inner.number('Length'),
      maximumLength: inner.number('MaximumLength'),
      buffer: inner.pointer('Buffer'),
    };
  }

  /** The field's raw bytes (ImageFileName, embedded structures). */
  raw(name: string): Uint8Array {
    const { at, field } = this.#locate(name);
    return this.bytes.subarray(at, at + field.size);
  }
}

export function readStruct(
  profile: LayoutProfile,
  struct: string,
  bytes: Uint8Array,
  base = 0,
): StructReader {
  return new StructReader(profile, struct, bytes, base);
}
