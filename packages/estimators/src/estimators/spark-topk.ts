import type { HeadTensor } from '@sparseland/core';
import { defineEstimator } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { pooledQueryChunks } from '../common/backend-ops.js';
import { QueryBlocks } from '../common/geometry.js';
import { addKeysAtLeast, SparseMaskBuilder } from '../common/mask-builder.js';
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
    const builder = new SparseMaskBuilder(shape, ctx, { causal });
    // Rows are built as the scores arrive (per kv head, chunks of query blocks): kept keys go in as runs.
    await pooledQueryChunks(
      { q, k, qOffset: shape.qOffset, causal },
      ctx,
      ctx.blockQ,
      1 / Math.sqrt(r),
      (h, qb0, count, scores, at, keys) => {
        for (let qb = qb0; qb < qb0 + count; qb++) {
          const base = at + (qb - qb0) * keys;
          const n = Math.min(keys, blocks.lastKey(qb) + 1);
          let sum = 0;
          let sq = 0;
          for (let j = 0; j < n; j++) {
            const s = scores[base + j] as number;
            sum += s;
            sq += s * s;
          }
          const mean = sum / n;
          const std = Math.sqrt(Math.max(0, sq / n - mean * mean));
          const threshold = params.k >= n ? -Infinity : mean + std * normalQuantile(1 - params.k / n);
          builder.row(h, qb, (row) => {
            row.addKeys(blocks.firstPos(qb), blocks.lastPos(qb) + 1);
            addKeysAtLeast(row, scores, base, 0, n, threshold);
          });
        }
      },
    );
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
