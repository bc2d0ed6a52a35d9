import { covers, type IntSet } from '../int-set.js';
import { Coverage, type RangeSink, type Term } from '../term.js';

/** Keeps (q, k) iff query q is in `queries` (and k ≤ q when causal): global tokens, dense last rows. */
export function rowsTerm(queries: IntSet, causal: boolean): Term {
  return {
    has: (q, k) => queries.has(q) && (!causal || k <= q),
    cover(q0, q1, k0, k1) {
      const lastRow = queries.prev(q1 - 1);
      if (lastRow < q0 || (causal && lastRow < k0)) return Coverage.none;
      return covers(queries, q0, q1 - 1) && (!causal || k1 - 1 <= q0) ? Coverage.all : Coverage.some;
    },
    keyRanges(q0, q1, kvLength, sink: RangeSink) {
      const lastRow = queries.prev(q1 - 1);
      if (lastRow < q0) return;
      const hi = causal ? Math.min(kvLength - 1, lastRow) : kvLength - 1;
      if (hi >= 0) sink(0, hi);
    },
  };
}
