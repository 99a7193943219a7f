// DTB candidate checks of spec §3.1 items 3–5 on pages built here.

import { describe, expect, it } from 'vitest';
import { looksLikePaePdpt, looksLikeX64Pml4, looksLikeX86Pd } from '../../../../src/core/paging';

const PAGE = 0x1000;

function page64(entries: Record<number, bigint>): Uint8Array {
  const bytes = new Uint8Array(PAGE);
  const view = new DataView(bytes.buffer);
  for (const [index, value] of Object.entries(entries)) view.setBigUint64(Number(index) * 8, value, true);
  return bytes;
}

function page32(entries: Record<number, number>): Uint8Array {
  const bytes = new Uint8Array(PAGE);
  const view = new DataView(bytes.buffer);
  for (const [index, value] of Object.entries(entries)) view.setUint32(Number(index) * 4, value >>> 0, true);
  return bytes;
}

describe('looksLikeX64Pml4', () => {
  const pa = 0x1ad000;
  const kernel: Record<number, bigint> = {};
  for (let i = 0; i < 8; i++) kernel[0x1f0 + i] = BigInt(0x300000 + i * PAGE) | 0x63n;

  it('finds the self-map index (randomised or the old fixed 0x1ED)', () => {
    expect(looksLikeX64Pml4(page64({ ...kernel, 0x1ed: BigInt(pa) | 0x63n | (1n << 63n) }), pa)).toBe(0x1ed);
    expect(looksLikeX64Pml4(page64({ ...kernel, 0x13a: BigInt(pa) | 0x63n }), pa)).toBe(0x13a);
    expect(looksLikeX64Pml4(page64({ ...kernel, 0x13a: BigInt(pa) | 0x63n }), pa, { strict: true })).toBe(
      0x13a,
    );
  });

  it('rejects pages without exactly one self-reference in 0x100–0x1FE, with a PS bit, or pointing past the image', () => {
    expect(looksLikeX64Pml4(page64(kernel), pa)).toBeNull();
    expect(looksLikeX64Pml4(page64({ ...kernel, 0x20: BigInt(pa) | 0x63n }), pa)).toBeNull();
    expect(looksLikeX64Pml4(page64({ ...kernel, 0x1ff: BigInt(pa) | 0x63n }), pa)).toBeNull();
    expect(
      looksLikeX64Pml4(page64({ ...kernel, 0x1ed: BigInt(pa) | 3n, 0x1ee: BigInt(pa) | 3n }), pa),
    ).toBeNull();
    expect(
      looksLikeX64Pml4(page64({ ...kernel, 0x1ed: BigInt(pa) | 3n, 0x100: 0x5000n | 0x83n }), pa),
    ).toBeNull();
    expect(
      looksLikeX64Pml4(page64({ ...kernel, 0x1ed: BigInt(pa) | 3n }), pa, { maxAddress: 0x301000 }),
    ).toBeNull();
    expect(looksLikeX64Pml4(page64({ 0x1ed: BigInt(pa) | 3n }), pa, { strict: true })).toBeNull(); // too few kernel tables
    expect(looksLikeX64Pml4(new Uint8Array(100), pa)).toBeNull();
  });
});

describe('looksLikePaePdpt', () => {
  const pa = 0x185000;
  const pdpt = page64({
    0: BigInt(pa + 0x1000) | 1n,
    1: BigInt(pa + 0x2000) | 1n,
    2: BigInt(pa + 0x3000) | 1n,
    3: BigInt(pa + 0x4000) | 1n,
  });

  it('recognises a PDPT followed by its four PDs, and checks PD #3 maps them', () => {
    expect(looksLikePaePdpt(pdpt, pa)).toBe(3);
    const pd3 = page64({
      0: BigInt(pa + 0x1000) | 0x63n,
      1: BigInt(pa + 0x2000) | 0x63n,
      2: BigInt(pa + 0x3000) | 0x63n,
      3: BigInt(pa + 0x4000) | 0x63n,
    });
    expect(looksLikePaePdpt(pdpt, pa, pd3)).toBe(3);
    expect(looksLikePaePdpt(pdpt, pa, page64({}))).toBeNull();
  });

  it('rejects other layouts, reserved bits and non-zero tails', () => {
    expect(looksLikePaePdpt(pdpt, pa + PAGE)).toBeNull();
    const reserved = pdpt.slice();
    reserved[0]! |= 0x80;
    expect(looksLikePaePdpt(reserved, pa)).toBeNull();
    const tail = pdpt.slice();
    tail[0x800] = 1;
    expect(looksLikePaePdpt(tail, pa)).toBeNull();
  });
});

describe('looksLikeX86Pd', () => {
  const pa = 0x39000;
  const entries: Record<number, number> = { 0: 0x1234067, 0x300: pa | 0x63 };
  for (let i = 0; i < 20; i++) entries[0x200 + i] = (0x100000 + i * PAGE) | 0x63;

  it('finds the self-map at 0x300', () => {
    expect(looksLikeX86Pd(page32(entries), pa)).toBe(0x300);
    expect(looksLikeX86Pd(page32(entries), pa, { strict: true })).toBe(0x300);
  });

  it('rejects a missing or duplicated self-reference, and strict population failures', () => {
    expect(looksLikeX86Pd(page32({ ...entries, 0x300: 0 }), pa)).toBeNull();
    expect(looksLikeX86Pd(page32({ ...entries, 0x301: pa | 0x63 }), pa)).toBeNull();
    expect(looksLikeX86Pd(page32({ ...entries, 0: 0 }), pa)).toBe(0x300);
    expect(looksLikeX86Pd(page32({ ...entries, 0: 0 }), pa, { strict: true })).toBeNull();
    expect(looksLikeX86Pd(page32({ 0: 0x67, 0x300: pa | 0x63 }), pa, { strict: true })).toBeNull();
  });
});
