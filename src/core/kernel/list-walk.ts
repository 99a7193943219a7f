// A bounded, loop-guarded walk of a kernel LIST_ENTRY ring: the addresses of the records that
// hang on it (each link minus the offset of its LIST_ENTRY in the record).

import { hex } from '../../common/hex';
import type { KernelMemory } from '../kernel/memory';

export interface ListWalk {
  records: bigint[];
  problems: string[];
  /** The walk came back to its head. */
  complete: boolean;
}

export function walkList(
  memory: KernelMemory,
  headVa: bigint,
  linkOffset: number,
  limit: number,
  what: string,
): ListWalk {
  const records: bigint[] = [];
  const problems: string[] = [];
  const seen = new Set<bigint>([headVa]);
  let link = memory.ptr(headVa);
  while (link !== null && link !== headVa) {
    if (seen.has(link)) {
      problems.push(`${what} loops back to ${hex(link)}`);
      return { records, problems, complete: false };
    }
    if (records.length >= limit || !memory.isKernelAddress(link)) {
      problems.push(`${what} walk stopped at ${hex(link)}`);
      return { records, problems, complete: false };
    }
    seen.add(link);
    records.push(link - BigInt(linkOffset));
    link = memory.ptr(link);
  }
  if (link === null) {
    problems.push(`${what} walk hit an unreadable link`);
    return { records, problems, complete: false };
  }
  return { records, problems, complete: true };
}
