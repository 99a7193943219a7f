// The vocabulary of layout establishment: an offset with how it was established, and the order in
// which candidate offsets are tried (what the kernel's code says, then the table, then a bounded
// search outwards from the table's offset, nearest first).

import { hex } from '../../common/hex';
import type { LayoutMethod } from '../../common/model';

export interface Established {
  offset: number;
  method: LayoutMethod;
  detail: string;
}

export interface Candidate {
  offset: number;
  method: LayoutMethod;
  /** Where the offset comes from ("PsGetProcessId: mov rax,[rcx+440h]", "the table"). */
  source: string;
}

/**
 * The candidates in order: the given ones, then every `step`-aligned offset in [from, to) by
 * distance from `near` (the table's offset), each once.
 */
export function* candidates(
  given: ReadonlyArray<Candidate | null>,
  search: { from: number; to: number; step: number; near: number },
): Generator<Candidate> {
  const seen = new Set<number>();
  for (const candidate of given) {
    if (candidate === null || seen.has(candidate.offset)) continue;
    seen.add(candidate.offset);
    yield candidate;
  }
  const near = search.near - (search.near % search.step);
  for (
    let distance = 0;
    near - distance >= search.from || near + distance < search.to;
    distance += search.step
  ) {
    for (const offset of distance === 0 ? [near] : [near - distance, near + distance]) {
      if (offset < search.from || offset >= search.to || seen.has(offset)) continue;
      seen.add(offset);
      yield { offset, method: 'structure', source: 'a search of the structure' };
    }
  }
}

/** The first candidate the check accepts, established with the check's own words; null when none does. */
export function establish(
  all: Iterable<Candidate>,
  check: (offset: number) => string | null,
): Established | null {
  for (const candidate of all) {
    const evidence = check(candidate.offset);
    if (evidence === null) continue;
    const method = candidate.method === 'table' ? 'table-checked' : candidate.method;
    return {
      offset: candidate.offset,
      method,
      detail: `${hex(candidate.offset)}: ${candidate.method === 'structure' ? '' : `${candidate.source}; `}${evidence}`,
    };
  }
  return null;
}
