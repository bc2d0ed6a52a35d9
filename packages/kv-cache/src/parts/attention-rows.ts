import type { HeadTensor } from '@sparseland/core';
import type { KvCacheLayer } from '@sparseland/core/kit';

/**
 * Exact softmax rows (float64) of some queries over kv head g's cached slots, one row at a time: for each query head
 * h of g's GQA group (h reads kv head floor(h / group)) and each query row i in `rows`, `visit(row, hi, i)` gets
 * P[s] over the slots, zero for slots whose position is after the query's. The row buffer is reused between calls.
 * Scale 1/√dim, as the model's attention.
 */
export function forEachAttentionRow(
  cache: KvCacheLayer,
  g: number,
  queries: HeadTensor,
  rows: { readonly start: number; readonly count: number },
  position: (i: number) => number,
  visit: (row: Float64Array, groupHead: number, i: number) => void,
): void {
  const n = cache.length(g);
  const d = cache.dim;
  const group = queries.heads / cache.kvHeads;
  const keys = cache.keys(g);
  const positions = cache.positions(g);
  const row = new Float64Array(n);
  const scale = 1 / Math.sqrt(d);
  const qd = queries.data;
  for (let hi = 0; hi < group; hi++) {
    const h = g * group + hi;
    for (let i = rows.start; i < rows.start + rows.count; i++) {
      const qPos = position(i);
      const qBase = (h * queries.length + i) * d;
      let max = -Infinity;
      for (let s = 0; s < n; s++) {
        if ((positions[s] as number) > qPos) {
          row[s] = -Infinity;
          continue;
        }
        let dot = 0;
        const kBase = s * d;
        for (let c = 0; c < d; c++) dot += (qd[qBase + c] as number) * (keys[kBase + c] as number);
        const x = dot * scale;
        row[s] = x;
        if (x > max) max = x;
      }
      if (max === -Infinity) {
        row.fill(0);
      } else {
        let sum = 0;
        for (let s = 0; s < n; s++) {
          const p = Math.exp((row[s] as number) - max);
          row[s] = p;
          sum += p;
        }
        for (let s = 0; s < n; s++) row[s] = (row[s] as number) / sum;
      }
      visit(row, hi, i);
    }
  }
}

/** The sum over the query heads of g's group and the given query rows of their attention rows: one mass per slot. */
export function summedAttention(
  cache: KvCacheLayer,
  g: number,
  queries: HeadTensor,
  rows: { readonly start: number; readonly count: number },
  position: (i: number) => number,
): Float64Array {
  const out = new Float64Array(cache.length(g));
  forEachAttentionRow(cache, g, queries, rows, position, (row) => {
    for (let s = 0; s < out.length; s++) out[s] = (out[s] as number) + (row[s] as number);
  });
  return out;
}
