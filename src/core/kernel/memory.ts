// Typed, bounded reads of kernel virtual memory. Every read can fail; failures carry the
// translation reason so that "absent" is reported as such, never as zeros.

import type { UnicodeStringValue } from '../profile';
import type { Unmapped, VirtualSpace } from '../paging';
import { u16, u32, u64 } from '../util/bytes';

export type ReadStatus = Unmapped['reason'] | 'invalid';

/** Longest string the engine will read from an image (hostile Length fields are bounded). */
export const MAX_STRING_BYTES = 0x2000;

export class KernelMemory {
  constructor(
    readonly virtual: VirtualSpace,
    readonly pointerSize: 4 | 8,
  ) {}

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

  /** The text of a UNICODE_STRING, or why it cannot be had. */
  unicodeString(value: UnicodeStringValue): { text: string } | { status: ReadStatus } {
    const { length, maximumLength, buffer } = value;
    if (length === 0) return { text: '' };
    if (
      length % 2 !== 0 ||
      length > maximumLength ||
      length > MAX_STRING_BYTES ||
      !this.isKernelAddress(buffer)
    ) {
      return { status: 'invalid' };
    }
    const read = this.tryBytes(buffer, length);
    if ('status' in read) return read;
    let text = '';
    for (let i = 0; i < length; i += 2) text += String.fromCharCode(u16(read.bytes, i));
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
  }
}
