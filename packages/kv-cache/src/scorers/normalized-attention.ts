import type { HeadTensor } from '@sparseland/core';
import type { KvCacheLayer } from '@sparseland/core/kit';
import { forEachAttentionRow } from '../parts/attention-rows.js';

/**
 * ZipCache's normalised attention of kv head g's slots: the attention each slot receives from the probe queries
 * (summed over the head's query heads), divided by how many probes can see it, which removes the bias of the causal
 * triangle toward early tokens. `probes` are query rows of `queries` at positions `position(i)`.
 */
export function normalizedAttention(
  cache: KvCacheLayer,
  g: number,
  queries: HeadTensor,
  probes: readonly number[],
  position: (i: number) => number,
): Float64Array {
  const n = cache.length(g);
  const positions = cache.positions(g);
  const sums = new Float64Array(n);
  const seenBy = new Float64Array(n);
  for (const i of probes) {
    const qPos = position(i);
    forEachAttentionRow(cache, g, queries, { start: i, count: 1 }, position, (row) => {
      for (let s = 0; s < n; s++) sums[s] = (sums[s] as number) + (row[s] as number);
    });
    for (let s = 0; s < n; s++) if ((positions[s] as number) <= qPos) seenBy[s] = (seenBy[s] as number) + 1;
  }
  for (let s = 0; s < n; s++) sums[s] = (seenBy[s] as number) > 0 ? (sums[s] as number) / (seenBy[s] as number) : 0;
  return sums;
}
