import { covers, forEachRun, type IntSet } from '../int-set.js';
import { Coverage, type RangeSink, type Term } from '../term.js';

/**
 * Keeps (q, k) iff key k is in `keys` (and k ≤ q when causal): attention sinks, global tokens, vertical stripes.
 */
export function columnsTerm(keys: IntSet, causal: boolean): Term {
  return {
    columns: { keys, causal },
    has: (q, k) => keys.has(k) && (!causal || k <= q),
    cover(q0, q1, k0, k1) {
      const last = causal ? Math.min(k1 - 1, q1 - 1) : k1 - 1;
      if (keys.next(k0) > last) return Coverage.none;
      return covers(keys, k0, k1 - 1) && (!causal || k1 - 1 <= q0) ? Coverage.all : Coverage.some;
    },
    keyRanges(_q0, q1, kvLength, sink: RangeSink) {
      forEachRun(keys, 0, causal ? Math.min(kvLength - 1, q1 - 1) : kvLength - 1, sink);
    },
  };
}
