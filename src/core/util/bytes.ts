// Little-endian readers over Uint8Array slices. Every reader is bounds-checked by the caller's
// slice: reading past the end throws a RangeError rather than returning garbage.

// Byte arithmetic rather than a DataView per read: these run for every field the engine reads.

function outOfRange(bytes: Uint8Array, offset: number, size: number): never {
  throw new RangeError(`read of ${size} bytes at ${offset} past ${bytes.length}`);
}

export function u8(bytes: Uint8Array, offset: number): number {
  const value = bytes[offset];
  if (value === undefined) outOfRange(bytes, offset, 1);
  return value;
}

export function u16(bytes: Uint8Array, offset: number): number {
  if (offset < 0 || offset + 2 > bytes.length) outOfRange(bytes, offset, 2);
  return bytes[offset]! | (bytes[offset + 1]! << 8);
}

export function i16(bytes: Uint8Array, offset: number): number {
  return (u16(bytes, offset) << 16) >> 16;
}

export function u32(bytes: Uint8Array, offset: number): number {
  if (offset < 0 || offset + 4 > bytes.length) outOfRange(bytes, offset, 4);
  return (
    (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>>
    0
  );
}

export function i32(bytes: Uint8Array, offset: number): number {
  return u32(bytes, offset) | 0;
}

export function u64(bytes: Uint8Array, offset: number): bigint {
  return (BigInt(u32(bytes, offset + 4)) << 32n) | BigInt(u32(bytes, offset));
}

/** A u64 that must fit a JavaScript number (file offsets, physical addresses, sizes). */
export function u64n(bytes: Uint8Array, offset: number): number {
  const value = u64(bytes, offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new RangeError(`u64 at ${offset} too large: 0x${value.toString(16)}`);
  return Number(value);
}

/** A pointer of the given width, as an unsigned bigint. */
export function ptr(bytes: Uint8Array, offset: number, pointerSize: 4 | 8): bigint {
  return pointerSize === 8 ? u64(bytes, offset) : BigInt(u32(bytes, offset));
}

export function ascii(bytes: Uint8Array, offset: number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(u8(bytes, offset + i));
  return text;
}

/** ASCII text up to the first NUL (or `maxLength` bytes). */
export function cString(bytes: Uint8Array, offset: number, maxLength: number): string {
  let text = '';
  for (let i = 0; i < maxLength && offset + i < bytes.length; i++) {
    const c = u8(bytes, offset + i);
    if (c === 0) break;
    text += String.fromCharCode(c);
  }
  return text;
}

/** UTF-16LE text of `byteLength` bytes (an odd trailing byte is ignored). */
export function utf16(bytes: Uint8Array, offset: number, byteLength: number): string {
  let text = '';
  for (let i = 0; i + 1 < byteLength; i += 2) text += String.fromCharCode(u16(bytes, offset + i));
  return text;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
