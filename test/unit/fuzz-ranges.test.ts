import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addRange, nextRange } from '../fuzz/ranges';

describe('fuzz campaign ranges', () => {
  it('hands out every input exactly once whatever order batches finish in', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 150 }),
        fc.array(fc.tuple(fc.nat(2000), fc.nat(200)), { maxLength: 20 }),
        (limit, size, doneBefore) => {
          const done: Array<[number, number]> = [];
          const seen = new Set<number>();
          for (const [from, length] of doneBefore) {
            addRange(done, from, Math.min(limit, from + length));
            for (let i = from; i < Math.min(limit, from + length); i++) seen.add(i);
          }
          for (let k = 1; k < done.length; k++) expect(done[k - 1]![1]).toBeLessThan(done[k]![0]);
          let next = 0;
          const handed: Array<{ from: number; to: number }> = [];
          for (
            let range = nextRange(done, next, size, limit);
            range;
            range = nextRange(done, next, size, limit)
          ) {
            expect(range.to - range.from).toBeGreaterThan(0);
            expect(range.to - range.from).toBeLessThanOrEqual(size);
            for (let i = range.from; i < range.to; i++) {
              expect(seen.has(i)).toBe(false);
              seen.add(i);
            }
            handed.push(range);
            next = range.to;
          }
          // finishing in reverse order leaves one range covering everything
          for (const range of handed.reverse()) addRange(done, range.from, range.to);
          expect(seen.size).toBe(limit);
          expect(done).toEqual([[0, limit]]);
        },
      ),
    );
  });
});
