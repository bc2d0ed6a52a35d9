import type { HeadTensor } from '@sparseland/core';
import { defineEstimator } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { pooledQueryScores } from '../common/backend-ops.js';
import { QueryBlocks } from '../common/geometry.js';
import { addBitRuns, SparseMaskBuilder } from '../common/mask-builder.js';
import { normalQuantile } from '../common/normal.js';
import { PAPERS } from '../papers.js';
import { withRettention } from '../rettention/with-rettention.js';

/**
 * Spark Transformer's statistical top-k, training-free. Each query block's mean query is scored against every
 * visible key (on the first `predictorDims` channels: Spark's low-cost predictor reuses a slice of the key; 0 = all
 * channels); instead of sorting, the scores are treated as Gaussian and keys above μ + σ·Φ⁻¹(1 − k/n) are kept, which
 * keeps about `k` of the n visible keys in linear time. The block's own positions are always kept. Default k = 256
 * (Spark: each token attends to at most 256 keys). Spark selects per token; here per query block of the recipe.
 */
const method = defineEstimator({
  name: 'spark-topk',
  summary: 'Spark statistical top-k: a threshold from the mean and std of the scores keeps about k keys, no sorting.',
  paper: PAPERS.spark,
  budget: { param: 'k', denser: 'higher' },
  params: z
    .object({
      k: intParam(1, 256, 'keys kept per query (Spark: at most 256)'),
      predictorDims: intParam(0, 0, 'leading channels the predictor scores with (0 = all)'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { dim } = shape;
    const r = params.predictorDims > 0 ? Math.min(dim, params.predictorDims) : dim;
    const q = r === dim ? input.q : leadingChannels(input.q, r);
    const k = r === dim ? input.k : leadingChannels(input.k, r);
    const blocks = new QueryBlocks(shape, ctx.blockQ, causal);
    const call = { q, k, qOffset: shape.qOffset, causal };
    const scale = 1 / Math.sqrt(r);
    // First pass: each block's mean and spread over the keys it sees (backend moments, float64 in key order).
    const { moments } = await pooledQueryScores(call, ctx, ctx.blockQ, scale, { moments: true });
    if (!moments) throw new Error('spark-topk: the backend returned no moments');
    const thresholds = new Float64Array(moments.count.length);
    for (let row = 0; row < thresholds.length; row++) {
      const n = moments.count[row] as number;
      const mean = (moments.sum[row] as number) / n;
      const std = Math.sqrt(Math.max(0, (moments.sumSquares[row] as number) / n - mean * mean));
      thresholds[row] = params.k >= n ? -Infinity : mean + std * normalQuantile(1 - params.k / n);
    }
    // Second pass over the same scores: the backend marks the keys at or above each block's threshold.
    const { atLeast } = await pooledQueryScores(call, ctx, ctx.blockQ, scale, { atLeast: thresholds }, false);
    if (!atLeast) throw new Error('spark-topk: the backend returned no threshold bits');
    const builder = new SparseMaskBuilder(shape, ctx, { causal });
    for (let h = 0; h < shape.heads; h++) {
      for (let qb = 0; qb < blocks.count; qb++) {
        const at = (h * blocks.count + qb) * atLeast.words;
        builder.row(h, qb, (row) => {
          row.addKeys(blocks.firstPos(qb), blocks.lastPos(qb) + 1);
          addBitRuns(row, atLeast.bits, at, 0, blocks.lastKey(qb) + 1);
        });
      }
    }
    return builder.finish();
  },
});

export const sparkTopk = withRettention(method);

/** The first r channels of every row. */
function leadingChannels(t: HeadTensor, r: number): HeadTensor {
  const data = new Float32Array(t.heads * t.length * r);
  for (let row = 0; row < t.heads * t.length; row++) data.set(t.data.subarray(row * t.dim, row * t.dim + r), row * r);
  return { data, heads: t.heads, length: t.length, dim: r };
}
