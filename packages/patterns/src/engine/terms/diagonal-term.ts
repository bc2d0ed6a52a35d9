import { covers, forEachRunDescending, type IntSet, intersects } from '../int-set.js';
import { Coverage, type RangeSink, type Term } from '../term.js';

/**
 * Keeps (q, k) iff the distance q − k is in `distances`: causal masks, sliding windows, dilated and strided bands,
 * repeated diagonals. A box holds every distance of [q0 − k1 + 1, q1 − 1 − k0], so its coverage is exact.
 */
export function diagonalTerm(distances: IntSet): Term {
  return {
    has: (q, k) => distances.has(q - k),
    cover(q0, q1, k0, k1) {
      const a = q0 - (k1 - 1);
      const b = q1 - 1 - k0;
      if (covers(distances, a, b)) return Coverage.all;
      return intersects(distances, a, b) ? Coverage.some : Coverage.none;
    },
    keyRanges(q0, q1, kvLength, sink: RangeSink) {
      // Descending distances give ascending keys; only distances some key of [0, kvLength) can have matter.
      forEachRunDescending(distances, q0 - (kvLength - 1), q1 - 1, (a, b) => {
        const lo = Math.max(0, q0 - b);
        const hi = Math.min(kvLength - 1, q1 - 1 - a);
        if (lo <= hi) sink(lo, hi);
      });
    },
  };
}
