// The struct reader on bytes built here, and the InfoMask header arithmetic.

import { describe, expect, it } from 'vitest';
import { builtinProfile, optionalHeaderDistance, readStruct } from '../../../../src/core/profile';

function bytesWith(size: number, writes: (view: DataView) => void): Uint8Array {
  const bytes = new Uint8Array(size);
  writes(new DataView(bytes.buffer));
  return bytes;
}

describe('StructReader', () => {
  it('reads an x64 DRIVER_OBJECT: integers, pointers, pointer arrays and the name header', () => {
    const profile = builtinProfile('x64', 19041);
    const base = 0x10; // the object starts inside a larger read
    const bytes = bytesWith(base + 0x150, (v) => {
      v.setInt16(base + 0x00, 4, true);
      v.setInt16(base + 0x02, 0x150, true);
      v.setBigUint64(base + 0x18, 0xfffff80012340000n, true);
      v.setUint32(base + 0x20, 0x6000, true);
      v.setUint16(base + 0x38, 26, true);
      v.setUint16(base + 0x3a, 28, true);
      v.setBigUint64(base + 0x40, 0xffffc00011112222n, true);
      v.setBigUint64(base + 0x70 + 14 * 8, 0xfffff80012341000n, true);
    });
    const driver = readStruct(profile, '_DRIVER_OBJECT', bytes, base);
    expect(driver.number('Type')).toBe(4);
    expect(driver.number('Size')).toBe(0x150);
    expect(driver.pointer('DriverStart')).toBe(0xfffff80012340000n);
    expect(driver.number('DriverSize')).toBe(0x6000);
    expect(driver.unicodeString('DriverName')).toEqual({
      length: 26,
      maximumLength: 28,
      buffer: 0xffffc00011112222n,
    });
    expect(driver.pointer('MajorFunction', 14)).toBe(0xfffff80012341000n);
    expect(driver.pointer('MajorFunction', 0)).toBe(0n);
    expect(() => driver.pointer('MajorFunction', 28)).toThrow(/_DRIVER_OBJECT\.MajorFunction\[28\].*outside/);
    expect(() => driver.number('NoSuchField')).toThrow(/_DRIVER_OBJECT has no field NoSuchField/);
  });

  it('decodes x86 POOL_HEADER bitfields (9 + 7 bits, §1.11) and reads x86 pointers', () => {
    const profile = builtinProfile('x86', 2600);
    // PreviousSize 0x1FF, PoolIndex 0x05, BlockSize 0x021, PoolType 0x0B, tag 'Dri\xF6'.
    const bytes = bytesWith(8, (v) => {
      v.setUint16(0, 0x1ff | (0x05 << 9), true);
      v.setUint16(2, 0x021 | (0x0b << 9), true);
      v.setUint32(4, 0xf6697244, true);
    });
    const pool = readStruct(profile, '_POOL_HEADER', bytes);
    expect(pool.number('PreviousSize')).toBe(0x1ff);
    expect(pool.number('PoolIndex')).toBe(0x05);
    expect(pool.number('BlockSize')).toBe(0x21);
    expect(pool.number('PoolType')).toBe(0x0b);
    expect(pool.number('PoolTag')).toBe(0xf6697244);

    const entry = readStruct(
      profile,
      '_LIST_ENTRY',
      bytesWith(8, (v) => v.setUint32(4, 0x8055a000, true)),
    );
    expect(entry.pointer('Blink')).toBe(0x8055a000n);
  });

  it('decodes x64 ULONG-unit pool bitfields of Windows 7 (§1.11) and returns raw bytes', () => {
    const profile = builtinProfile('x64', 7601);
    const pool = readStruct(
      profile,
      '_POOL_HEADER',
      bytesWith(16, (v) => v.setUint32(0, 0x0215_0a01, true)),
    );
    expect([
      pool.number('PreviousSize'),
      pool.number('PoolIndex'),
      pool.number('BlockSize'),
      pool.number('PoolType'),
    ]).toEqual([0x01, 0x0a, 0x15, 0x02]);

    const process = new Uint8Array(0x4f8);
    process.set(new TextEncoder().encode('System'), 0x2e0);
    const name = readStruct(profile, '_EPROCESS', process).raw('ImageFileName');
    expect(name).toHaveLength(15);
    expect(new TextDecoder().decode(name.subarray(0, 6))).toBe('System');
  });

  it('refuses to read past the bytes it was given', () => {
    const profile = builtinProfile('x64', 19041);
    const short = readStruct(profile, '_DEVICE_OBJECT', new Uint8Array(0x40));
    expect(short.pointer('NextDevice')).toBe(0n);
    expect(() => short.number('DeviceType')).toThrow(
      /_DEVICE_OBJECT\.DeviceType\[0\] \(\+0x48, 4 bytes\) is outside the 64 bytes read/,
    );
  });
});

describe('optionalHeaderDistance (§1.8.3)', () => {
  it('stacks Win7+ headers downwards in bit order', () => {
    const facts = builtinProfile('x64', 19041).objectHeader;
    expect(optionalHeaderDistance(facts, 0x02, 'name')).toBe(0x20);
    expect(optionalHeaderDistance(facts, 0x03, 'name')).toBe(0x40);
    expect(optionalHeaderDistance(facts, 0x03, 'creator')).toBe(0x20);
    expect(optionalHeaderDistance(facts, 0x01, 'name')).toBeUndefined();
    // BSODT: InfoMask 0x88 = [padding][quota][OBJECT_HEADER].
    expect(optionalHeaderDistance(facts, 0x88, 'quota')).toBe(0x20);
    expect(optionalHeaderDistance(facts, 0x88, 'padding')).toBe(0x24);
    expect(optionalHeaderDistance(facts, 0x4a, 'extended')).toBe(0x20 + 0x20 + 0x10);
    expect(optionalHeaderDistance(facts, 0x40, 'handleRevocation')).toBeUndefined();

    const x86 = builtinProfile('x86', 7601).objectHeader;
    expect(optionalHeaderDistance(x86, 0x03, 'name')).toBe(0x20);
    expect(optionalHeaderDistance(x86, 0x20, 'audit')).toBeUndefined(); // no AUDIT_INFO before 8
  });

  it('assigns bit 0x40 to HANDLE_REVOCATION up to 10586 and EXTENDED from 14393', () => {
    const bit40 = (build: number) =>
      builtinProfile('x64', build).objectHeader.optionalHeaders.find((h) => h.infoMaskBit === 0x40)?.kind;
    expect(bit40(9600)).toBeUndefined();
    expect(bit40(10586)).toBe('handleRevocation');
    expect(bit40(14393)).toBe('extended');
    expect(builtinProfile('x64', 10586).objectHeader.optionalHeaders.at(-1)).toEqual({
      kind: 'padding',
      struct: '_OBJECT_HEADER_PADDING_INFO',
      size: 4,
      infoMaskBit: 0x80,
    });
  });

  it('has no InfoMask before Windows 7: headers are found through the offset bytes', () => {
    const facts = builtinProfile('x86', 6002).objectHeader;
    expect(facts.optionalHeaders.map((h) => [h.kind, h.size, h.infoMaskBit])).toEqual([
      ['creator', 0x10, undefined],
      ['name', 0x10, undefined],
      ['handle', 0x08, undefined],
      ['quota', 0x10, undefined],
    ]);
    expect(optionalHeaderDistance(facts, 0xff, 'name')).toBeUndefined();
  });

  it('marks object pool tags protected before Windows 8 and TypeIndex encoded from 10 (§1.11, §1.8.4)', () => {
    expect(builtinProfile('x86', 7601).pool.objectTagsProtected).toBe(true);
    expect(builtinProfile('x86', 9200).pool.objectTagsProtected).toBe(false);
    expect(builtinProfile('x64', 3790).pool.pagedPoolTypeIsOdd).toBe(false);
    expect(builtinProfile('x64', 6000).pool.pagedPoolTypeIsOdd).toBe(true);
    expect(builtinProfile('x64', 9600).objectHeader.typeIndexEncoded).toBe(false);
    expect(builtinProfile('x86', 9841).objectHeader.typeIndexEncoded).toBe(true);
  });
});
