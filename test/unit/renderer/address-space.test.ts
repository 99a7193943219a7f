import { describe, expect, test } from 'vitest';
import { addressProblem } from '../../../src/renderer/util/address-space';

const x86 = { wide: false, physicalMax: 0x3ffffffn };
const x64 = { wide: true, physicalMax: 0x1_3fffffffn };

describe('addresses an image can hold', () => {
  test('x86: 32-bit virtual addresses only', () => {
    expect(addressProblem(0x8a292140n, 'virtual', x86)).toBeNull();
    expect(addressProblem(0xffffffffn, 'virtual', x86)).toBeNull();
    expect(addressProblem(0x1_00000000n, 'virtual', x86)).toBe(
      "0x100000000 is wider than this image's 32-bit virtual address space (0 … 0xffffffff).",
    );
    expect(addressProblem(0xfffff80312345678n, 'virtual', x86)).toMatch(/wider than this image's 32-bit/);
  });

  test('x64: canonical addresses only (bits 48 to 63 repeat bit 47)', () => {
    expect(addressProblem(0xfffff80312345678n, 'virtual', x64)).toBeNull();
    expect(addressProblem(0x00007fffffffffffn, 'virtual', x64)).toBeNull();
    expect(addressProblem(0xffff800000000000n, 'virtual', x64)).toBeNull();
    expect(addressProblem(0x0000800000000000n, 'virtual', x64)).toMatch(/not a canonical x64 address/);
    expect(addressProblem(0xfff0800000000000n, 'virtual', x64)).toMatch(/not a canonical x64 address/);
    expect(addressProblem(1n << 64n, 'virtual', x64)).toMatch(/wider than the 64-bit/);
  });

  test('physical: up to the last address the image holds', () => {
    expect(addressProblem(0x3ffffffn, 'physical', x86)).toBeNull();
    expect(addressProblem(0x4000000n, 'physical', x86)).toBe(
      "0x4000000 is past the end of this image's physical address space (its last address is 0x3ffffff).",
    );
    expect(addressProblem(0x1_00000000n, 'physical', x64)).toBeNull();
  });
});
