// Pure checks the DTB-discovery layer runs on candidate pages (spec §3.1 items 3–5). Each returns
// the self-map index when the page looks like the top-level table of a Windows kernel address
// space, else null. The default rules are Volatility 3's; `strict` adds MemProcFS's stronger
// ones, which assume a populated, real-world kernel.

import { u32 } from '../util/bytes';
import { frameOf, PAGE, TWO_32 } from './modes';

export interface TableCheckOptions {
  /** One past the highest physical address of the image: pointers at or beyond it disqualify. */
  readonly maxAddress?: number;
  /** Also apply MemProcFS's population checks (spec §3.1). */
  readonly strict?: boolean;
}

function entry64(page: Uint8Array, index: number): { lo: number; hi: number } {
  return { lo: u32(page, index * 8), hi: u32(page, index * 8 + 4) };
}

/**
 * x64 PML4 (spec §3.1 item 3, `V3:automagic/windows.py`): exactly one present entry points at the
 * page itself, at an index in 0x100–0x1FE; no present entry has PS (bit 7) set.
 * Strict (`MPFS VmmWinInit_DTB_FindValidate_X64`): > 0x40 zero entries in each half, ≥ 6 kernel
 * entries with `e & 0x8000000000000087 == 0x03` below max, and the self entry has `e & 0x83 == 3`.
 */
export function looksLikeX64Pml4(
  page: Uint8Array,
  pa: number,
  options: TableCheckOptions = {},
): number | null {
  if (page.length < PAGE || pa <= 0 || pa % PAGE !== 0) return null;
  const max = options.maxAddress ?? Number.POSITIVE_INFINITY;
  let selfIndex = -1;
  let selfCount = 0;
  let zeroUser = 0;
  let zeroKernel = 0;
  let kernelTables = 0;
  for (let i = 0; i < 512; i++) {
    const { lo, hi } = entry64(page, i);
    if (lo === 0 && hi === 0) {
      if (i < 256) zeroUser++;
      else zeroKernel++;
      continue;
    }
    if (!(lo & 1)) continue;
    if (lo & 0x80) return null;
    const frame = frameOf(lo, hi, 8);
    if (frame === pa) {
      selfCount++;
      selfIndex = i;
      continue;
    }
    if (frame >= max) return null;
    if (i >= 256 && (lo & 0x87) === 0x03 && (hi & 0x80000000) === 0) kernelTables++;
  }
  if (selfCount !== 1 || selfIndex < 0x100 || selfIndex > 0x1fe) return null;
  if (options.strict) {
    const self = entry64(page, selfIndex);
    if ((self.lo & 0x83) !== 0x03) return null;
    if (zeroUser <= 0x40 || zeroKernel <= 0x40 || kernelTables < 6) return null;
  }
  return selfIndex;
}

/**
 * x86 PAE PDPT followed by its four page directories (spec §3.1 item 4, MemProcFS): entries 0–3
 * are `PA + 0x1000·(k+1) | 1` (PWT/PCD allowed) and the rest of the page is zero. With `pd3` (the
 * page at PA + 0x4000) also checks Volatility 3's `DtbSelfRefPae`: PD #3 maps the four PDs at its
 * indices 0–3. Returns 3, the slot of PD #3 that maps PD #3 itself (PDs visible at 0xC0600000).
 */
export function looksLikePaePdpt(
  page: Uint8Array,
  pa: number,
  pd3?: Uint8Array,
  options: TableCheckOptions = {},
): number | null {
  if (page.length < 32 || pa <= 0 || pa % PAGE !== 0 || pa + 5 * PAGE > 64 * TWO_32) return null;
  const max = options.maxAddress ?? Number.POSITIVE_INFINITY;
  for (let k = 0; k < 4; k++) {
    const { lo, hi } = entry64(page, k);
    // PDPTE: bit 0 present; bits 1–2 and 5–8 are reserved and must be clear.
    if (!(lo & 1) || lo & 0x1e6 || (hi & 0xfff00000) !== 0) return null;
    const frame = frameOf(lo, hi, 8);
    if (frame !== pa + PAGE * (k + 1) || frame >= max) return null;
  }
  if (page.length >= PAGE) for (let i = 32; i < PAGE; i++) if (page[i] !== 0) return null;
  if (pd3 !== undefined) {
    if (pd3.length < 32) return null;
    for (let k = 0; k < 4; k++) {
      const { lo, hi } = entry64(pd3, k);
      if (!(lo & 1) || lo & 0x80 || frameOf(lo, hi, 8) !== pa + PAGE * (k + 1)) return null;
    }
  }
  return 3;
}

/**
 * x86 non-PAE page directory (spec §3.1 item 5): `u32[0x300] & 0xFFFFF003 == PA + 3` and no other
 * present entry points at the page (Volatility 3: exactly one self-reference, at 0x300).
 * Strict (`MPFS VmmWinInit_DTB_FindValidate_X86`): byte 0 is 0x67 (PDE 0 maps a user page table)
 * and more than 16 entries in 0x800–0xFFF have the flag byte 0x63 or 0xE3.
 */
export function looksLikeX86Pd(page: Uint8Array, pa: number, options: TableCheckOptions = {}): number | null {
  if (page.length < PAGE || pa <= 0 || pa % PAGE !== 0 || pa >= TWO_32) return null;
  const self = u32(page, 0x300 * 4);
  if ((self & 0xfffff003) >>> 0 !== pa + 3) return null;
  const max = options.maxAddress ?? Number.POSITIVE_INFINITY;
  let kernelFlagged = 0;
  for (let i = 0; i < 1024; i++) {
    const e = u32(page, i * 4);
    if (!(e & 1)) continue;
    const frame = (e & 0xfffff000) >>> 0;
    if (i !== 0x300 && frame === pa) return null;
    if (i !== 0x300 && !(e & 0x80) && frame >= max) return null;
    if (i >= 0x200 && ((e & 0xff) === 0x63 || (e & 0xff) === 0xe3)) kernelFlagged++;
  }
  if (options.strict && (page[0] !== 0x67 || kernelFlagged <= 16)) return null;
  return 0x300;
}
