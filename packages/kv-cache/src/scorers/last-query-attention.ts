import { forEachAttentionRow } from '../parts/attention-rows.js';
import type { Scorer } from '../parts/compose.js';

interface LayerScores {
  /** Mean attention of the hook's last query over every query head of the layer, by token position. */
  byPosition: Map<number, number>;
}

/**
 * TOVA's score: the attention of the newest query, averaged over all query heads of the layer, so every kv head
 * ranks tokens the same way (by position).
 */
export const lastQueryAttentionScorer: Scorer<LayerScores> = {
  create: () => ({ byPosition: new Map() }),
  observe(state, { cache, queries, position }) {
    const sums = new Map<number, number>();
    const last = queries.length - 1;
    for (let g = 0; g < cache.kvHeads; g++) {
      const positions = cache.positions(g);
      forEachAttentionRow(cache, g, queries, { start: last, count: 1 }, position, (row) => {
        for (let s = 0; s < row.length; s++) {
          const p = positions[s] as number;
          sums.set(p, (sums.get(p) ?? 0) + (row[s] as number) / queries.heads);
        }
      });
    }
    state.byPosition = sums;
  },
  score: (state, { cache }, g) => Float64Array.from(cache.positions(g), (p) => state.byPosition.get(p) ?? 0),
};
