// Typed, bounded reads of kernel virtual memory. Every read can fail; failures carry the
// translation reason so that "absent" is reported as such, never as zeros.

import type { UnicodeStringValue } from '../profile';
import type { Unmapped, VirtualSpace } from '../paging';
import { u16, u32, u64 } from '../util/bytes';

export type ReadStatus = Unmapped['reason'] | 'invalid' | 'not-text';

/**
 * Longest string the engine reads from an image: object names, service keys and paths are far
 * shorter (a path of 512 characters is already unusual); hostile Length fields are bounded here.
 */
export const MAX_STRING_BYTES = 0x800;

/** A string that could not be had: why, and where its bytes are (one click away in the hex view). */
export interface StringFailure {
  status: ReadStatus;
  buffer?: bigint;
  length?: number;
}

/**
 * Whether UTF-16 read from memory is text: no NUL inside (object names and paths never hold one;
 * a freed block's stale descriptor points at zeros), no unpaired surrogate, no noncharacter.
 * Control characters pass: a hostile name that carries them is a finding, not noise.
 */
function isText(units: Uint16Array): boolean {
  for (let i = 0; i < units.length; i++) {
    const unit = units[i]!;
    if (unit === 0 || unit === 0xfffe || unit === 0xffff) return false;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = units[i + 1];
      if (next === undefined || next < 0xdc00 || next > 0xdfff) return false;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) return false;
  }
  return true;
}

export class KernelMemory {
  constructor(
    readonly virtual: VirtualSpace,
    readonly pointerSize: 4 | 8,
  ) {}

  /**
   * `length` bytes from `va` for a scan: pages that cannot be read (a paged-out PAGE section of
   * the kernel) read as zeros, and the rest of the range is still read.
   */
  scanBytes(va: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const read = this.virtual.readPartial(va + BigInt(done), length - done);
      out.set(read.bytes, done);
      done += read.bytes.length;
      if (!read.failure) break;
      // On from the page after the one that failed (each turn moves a page on: bounded).
      const nextPage = (read.failure.va & ~0xfffn) + 0x1000n;
      done = Math.min(length, Math.max(done + 1, Number(nextPage - va)));
    }
    return out;
  }

  bytes(va: bigint, length: number): Uint8Array | null {
    const result = this.virtual.read(va, length);
    return result.ok ? result.bytes : null;
  }

  /** Bytes, or why they cannot be read. */
  tryBytes(va: bigint, length: number): { bytes: Uint8Array } | { status: ReadStatus } {
    const result = this.virtual.read(va, length);
    return result.ok ? { bytes: result.bytes } : { status: result.failure.reason };
  }

  u16(va: bigint): number | null {
    const b = this.bytes(va, 2);
    return b ? u16(b, 0) : null;
  }

  u32(va: bigint): number | null {
    const b = this.bytes(va, 4);
    return b ? u32(b, 0) : null;
  }

  u64(va: bigint): bigint | null {
    const b = this.bytes(va, 8);
    return b ? u64(b, 0) : null;
  }

  ptr(va: bigint): bigint | null {
    return this.pointerSize === 8 ? this.u64(va) : this.u32(va) === null ? null : BigInt(this.u32(va)!);
  }

  /** A kernel-space address: x64 canonical upper half, x86 at or above 0x80000000 (spec §4.3). */
  isKernelAddress(va: bigint): boolean {
    if (this.pointerSize === 8) return va >= 0xffff800000000000n && va <= 0xffffffffffffffffn;
    return va >= 0x80000000n && va <= 0xffffffffn;
  }

  /**
   * The text of a UNICODE_STRING, or why it cannot be had: a descriptor that no kernel writes
   * (odd or oversized Length, Length above MaximumLength, a buffer outside kernel space or not
   * WCHAR-aligned), bytes that are not in the image, or bytes that are not text.
   */
  unicodeString(value: UnicodeStringValue): { text: string } | StringFailure {
    const { length, maximumLength, buffer } = value;
    if (length === 0) return { text: '' };
    if (
      length % 2 !== 0 ||
      length > maximumLength ||
      length > MAX_STRING_BYTES ||
      !this.isKernelAddress(buffer) ||
      buffer % 2n !== 0n
    ) {
      return { status: 'invalid', buffer, length };
    }
    const read = this.tryBytes(buffer, length);
    if ('status' in read) return { status: read.status, buffer, length };
    const units = new Uint16Array(length / 2);
    for (let i = 0; i < units.length; i++) units[i] = u16(read.bytes, i * 2);
    if (!isText(units)) return { status: 'not-text', buffer, length };
    let text = '';
    for (const unit of units) text += String.fromCharCode(unit);
    return { text };
  }
}

/** Human wording for a read status, for nameStatus fields and warnings. */
export function describeStatus(status: ReadStatus): string {
  switch (status) {
    case 'paged-out':
      return 'paged out';
    case 'prototype':
      return 'in a prototype PTE (not resolvable from RAM)';
    case 'not-present':
      return 'not mapped';
    case 'transition-out-of-range':
      return 'in a transition page outside the image';
    case 'no-physical-page':
      return 'in a page missing from the image';
    case 'non-canonical':
      return 'at a non-canonical address';
    case 'invalid':
      return 'invalid (bad length or buffer pointer)';
    case 'not-text':
      return 'not text (NUL characters or broken UTF-16: stale or overwritten memory)';
  }
}

/** Why a string is missing, with where its bytes are when the descriptor pointed somewhere. */
export function describeStringFailure(failure: StringFailure): string {
  const where =
    failure.buffer !== undefined && failure.buffer !== 0n
      ? ` (${failure.length ?? 0} bytes at 0x${failure.buffer.toString(16)})`
      : '';
  return `${describeStatus(failure.status)}${where}`;
}
