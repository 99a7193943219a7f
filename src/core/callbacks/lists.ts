// The callback lists: what makes an address a LIST_ENTRY head (its links lead back to it; an empty
// list points at itself), and reading the records that hang on it, bounded and loop-guarded like
// every walk.

import { hex } from '../../common/hex';
import type { KernelMemory } from '../kernel/memory';
import { walkList } from '../kernel/list-walk';

/** Far above any real system's registrations of one kind; a crafted ring stops here. */
export const MAX_LIST_RECORDS = 512;

/**
 * Why `address` is not a list head, or null when its links are kernel addresses and at least one
 * of them round-trips (its Flink's Blink or its Blink's Flink is the head): a ring broken at one
 * end is still the list, read as far as it goes, with the break as its problem.
 */
export function rejectListHead(memory: KernelMemory, address: bigint): string | null {
  const flink = memory.ptr(address);
  const blink = memory.ptr(address + BigInt(memory.pointerSize));
  if (flink === null || blink === null) return `${hex(address)} is not in the image`;
  if (!memory.isKernelAddress(flink) || !memory.isKernelAddress(blink))
    return `${hex(address)} holds ${hex(flink)}, ${hex(blink)}: not kernel links`;
  const forward = memory.ptr(flink + BigInt(memory.pointerSize)) === address;
  const backward = memory.ptr(blink) === address;
  if (!forward && !backward)
    return `neither its Flink ${hex(flink)} nor its Blink ${hex(blink)} leads back to it`;
  return null;
}

export function isEmptyList(memory: KernelMemory, address: bigint): boolean {
  return memory.ptr(address) === address;
}

/** The records on the list (each a LIST_ENTRY at offset 0), and why the walk ended early. */
export function readList(
  memory: KernelMemory,
  head: bigint,
  label: string,
): { records: bigint[]; problems: string[] } {
  const walk = walkList(memory, head, 0, MAX_LIST_RECORDS, `the ${label} list`);
  return { records: walk.records, problems: walk.problems };
}
