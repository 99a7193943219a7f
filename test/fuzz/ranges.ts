// Which inputs of a campaign are done, as sorted disjoint [from, to) ranges.

/** Adds [from, to) to sorted, disjoint ranges, merging neighbours. */
export function addRange(done: Array<[number, number]>, from: number, to: number): void {
  if (to <= from) return;
  let i = 0;
  while (i < done.length && done[i]![1] < from) i++;
  let start = from;
  let end = to;
  let j = i;
  while (j < done.length && done[j]![0] <= end) {
    start = Math.min(start, done[j]![0]);
    end = Math.max(end, done[j]![1]);
    j++;
  }
  done.splice(i, j - i, [start, end]);
}

/** The next range of at most `size` inputs from `next` that is not done yet, or null. */
export function nextRange(
  done: Array<[number, number]>,
  next: number,
  size: number,
  limit: number,
): { from: number; to: number } | null {
  let from = next;
  for (const [a, b] of done) if (a <= from && from < b) from = b;
  if (from >= limit) return null;
  const blocker = done.find(([a]) => a > from);
  return { from, to: Math.min(limit, from + size, blocker ? blocker[0] : Infinity) };
}
