import { forEachAttentionRow } from '../parts/attention-rows.js';
import type { Scorer } from '../parts/compose.js';
import { SlotValues } from '../parts/slot-values.js';

/**
 * H2O's heavy-hitter score: the attention probability each cached slot has received, summed over every query seen
 * (all prompt queries at prefill, then each decode step's) and over the query heads of its kv head's group.
 */
export const accumulatedAttentionScorer: Scorer<SlotValues> = {
  create: (cache) => new SlotValues(cache.kvHeads),
  observe(sums, { cache, queries, position }) {
    for (let g = 0; g < cache.kvHeads; g++) {
      const acc = sums.of(cache, g);
      forEachAttentionRow(cache, g, queries, { start: 0, count: queries.length }, position, (row) => {
        for (let s = 0; s < acc.length; s++) acc[s] = (acc[s] as number) + (row[s] as number);
      });
    }
  },
  score: (sums, { cache }, g) => Float64Array.from(sums.of(cache, g)),
  retain: (sums, g, slots) => sums.retain(g, slots),
  stateBytes: (sums) => sums.bytes(),
};
