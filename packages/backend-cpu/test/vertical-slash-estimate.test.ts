import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fillDiagonals, topIndices } from '../bench/vertical-slash-estimate.js';
import { BLOCK, keptPairs, verticalSlashMask } from '../bench/workloads.js';

// The benchmark's vertical-slash estimation picks its columns and diagonals with these two functions, and its
// density target depends on fillDiagonals counting the mask's pairs exactly: both are checked against plain
// definitions here (a sort for the top columns, core's countKeptPairs on the built mask for the count).

/** The k largest by a full sort, ties to the lower index, ascending. */
function topBySort(scores: Float64Array, k: number): number[] {
  const order = Array.from(scores.keys()).sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  return order.slice(0, Math.max(0, k)).sort((a, b) => a - b);
}

describe('topIndices', () => {
  it('matches a full sort, ties included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 0, maxLength: 300 }),
        fc.integer({ min: 0, max: 320 }),
        (values, k) => {
          const scores = Float64Array.from(values, (v) => v / 2);
          expect(Array.from(topIndices(scores, k))).toEqual(topBySort(scores, k));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('leaves its input unchanged', () => {
    const scores = Float64Array.from([3, 1, 2, 5, 4]);
    topIndices(scores, 2);
    expect(Array.from(scores)).toEqual([3, 1, 2, 5, 4]);
  });
});

describe('fillDiagonals', () => {
  const sizes = fc.integer({ min: 1, max: 700 });

  it("counts the built mask's causal pairs exactly, on lengths that are not multiples of the block", () => {
    fc.assert(
      fc.property(
        sizes,
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n, rawColumns, rawOrder, fraction) => {
          const columns = Int32Array.from(new Set(rawColumns.map((c) => c % n)));
          const blocks = Math.ceil(n / BLOCK);
          const order = rawOrder.map((o) => o % blocks);
          const budget = (fraction * n * (n + 1)) / 2;
          const { diagonals, kept } = fillDiagonals(n, columns, order, budget);
          expect(kept).toBe(keptPairs(verticalSlashMask(n, columns, diagonals), n, 1));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('stops at the diagonal count nearest the budget, in the given order', () => {
    const n = 64 * 40;
    const columns = Int32Array.from([5, 700, 701, 1999]);
    const order = [0, 3, 1, 20, 7, 2];
    const causal = (n * (n + 1)) / 2;
    for (let step = 1; step <= 60; step++) {
      const budget = (step / 100) * causal;
      const { diagonals, kept } = fillDiagonals(n, columns, order, budget);
      expect(diagonals).toEqual(order.slice(0, diagonals.length));
      // One diagonal more (or one fewer) would be no nearer.
      const counts = [diagonals.length - 1, diagonals.length + 1].filter((c) => c >= 0 && c <= order.length);
      for (const c of counts) {
        const other = keptPairs(verticalSlashMask(n, columns, order.slice(0, c)), n, 1);
        expect(Math.abs(other - budget)).toBeGreaterThanOrEqual(Math.abs(kept - budget));
      }
    }
  });

  it('keeps nothing beyond the sink and the columns when the budget is already met', () => {
    const { diagonals, kept } = fillDiagonals(1000, Int32Array.from([100, 900]), [0, 1, 2], 0);
    expect(diagonals).toEqual([]);
    expect(kept).toBe(keptPairs(verticalSlashMask(1000, Int32Array.from([100, 900]), []), 1000, 1));
  });
});
