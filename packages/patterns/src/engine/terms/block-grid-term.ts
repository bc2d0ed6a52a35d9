import { covers, forEachRun, type IntSet } from '../int-set.js';
import { Coverage, type RangeSink, type Term } from '../term.js';

/**
 * A pattern defined on a coarse grid of `size`-token blocks aligned to absolute positions (BigBird, S2-attention,
 * PowerAttention, the Sparse Transformer's chunks): token pair (q, k) is kept iff key block ⌊k/size⌋ is in
 * `keyBlocksOf(⌊q/size⌋)` (and k ≤ q when causal). The kernel's blocks need not line up with the pattern's.
 */
export function blockGridTerm(size: number, keyBlocksOf: (queryBlock: number) => IntSet, causal: boolean): Term {
  return {
    has: (q, k) => keyBlocksOf(Math.floor(q / size)).has(Math.floor(k / size)) && (!causal || k <= q),
    cover(q0, q1, k0, k1) {
      let all = true;
      let some = false;
      const firstKey = Math.floor(k0 / size);
      const lastKey = Math.floor((k1 - 1) / size);
      for (let row = Math.floor(q0 / size); row <= Math.floor((q1 - 1) / size); row++) {
        const qa = Math.max(q0, row * size);
        const qb = Math.min(q1, (row + 1) * size);
        const blocks = keyBlocksOf(row);
        if (all && !(covers(blocks, firstKey, lastKey) && (!causal || k1 - 1 <= qa))) all = false;
        if (!some) {
          const first = blocks.next(firstKey);
          // The smallest kept key block holds the smallest key, the one most likely to be causal.
          if (first <= lastKey && (!causal || Math.max(k0, first * size) <= qb - 1)) some = true;
        }
        if (!all && some) break;
      }
      return all ? Coverage.all : some ? Coverage.some : Coverage.none;
    },
    keyRanges(q0, q1, kvLength, sink: RangeSink) {
      const lastBlock = Math.floor((kvLength - 1) / size);
      for (let row = Math.floor(q0 / size); row <= Math.floor((q1 - 1) / size); row++) {
        const rowLast = causal ? Math.min(kvLength - 1, Math.min(q1, (row + 1) * size) - 1) : kvLength - 1;
        if (rowLast < 0) continue;
        forEachRun(keyBlocksOf(row), 0, lastBlock, (a, b) => {
          const hi = Math.min(rowLast, (b + 1) * size - 1);
          if (a * size <= hi) sink(a * size, hi);
        });
      }
    },
  };
}
