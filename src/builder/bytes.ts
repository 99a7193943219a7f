// A little-endian byte buffer for composing kernel structures before they are written out.

export class ByteWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(
    size: number,
    readonly pointerSize: 4 | 8 = 8,
  ) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(offset: number, value: number): this {
    this.view.setUint8(offset, value & 0xff);
    return this;
  }

  u16(offset: number, value: number): this {
    this.view.setUint16(offset, value & 0xffff, true);
    return this;
  }

  u32(offset: number, value: number): this {
    this.view.setUint32(offset, value >>> 0, true);
    return this;
  }

  u64(offset: number, value: bigint): this {
    this.view.setBigUint64(offset, BigInt.asUintN(64, value), true);
    return this;
  }

  ptr(offset: number, value: bigint): this {
    return this.pointerSize === 8 ? this.u64(offset, value) : this.u32(offset, Number(value & 0xffffffffn));
  }

  set(offset: number, data: Uint8Array): this {
    this.bytes.set(data, offset);
    return this;
  }

  ascii(offset: number, text: string): this {
    for (let i = 0; i < text.length; i++) this.bytes[offset + i] = text.charCodeAt(i) & 0xff;
    return this;
  }

  /** UNICODE_STRING {Length, MaximumLength, Buffer} (spec §1.1). */
  unicodeString(offset: number, byteLength: number, maximumLength: number, buffer: bigint): this {
    this.u16(offset, byteLength).u16(offset + 2, maximumLength);
    return this.ptr(offset + (this.pointerSize === 8 ? 8 : 4), buffer);
  }
}

export function utf16le(text: string, terminator = true): Uint8Array {
  const out = new Uint8Array(text.length * 2 + (terminator ? 2 : 0));
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out[i * 2] = code & 0xff;
    out[i * 2 + 1] = code >> 8;
  }
  return out;
}

export function asciiBytes(text: string, terminator = true): Uint8Array {
  const out = new Uint8Array(text.length + (terminator ? 1 : 0));
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

export function alignUpBig(value: bigint, alignment: bigint): bigint {
  return ((value + alignment - 1n) / alignment) * alignment;
}

export function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}
