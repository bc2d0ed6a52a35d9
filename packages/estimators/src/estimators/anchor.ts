import { defineEstimator } from '@sparseland/core';
import type { EstimatorContext, EstimatorInput } from '@sparseland/core/kit';
import { intParam, numberParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { pooledQueryScores } from '../common/backend-ops.js';
import { dotFlops } from '../common/flops.js';
import { QueryBlocks } from '../common/geometry.js';
import { addBitRuns, SparseMaskBuilder } from '../common/mask-builder.js';
import { PAPERS } from '../papers.js';
import { withRettention } from '../rettention/with-rettention.js';

/**
 * AnchorAttention. The anchor of each query is its largest scaled logit over the initial keys and its local window
 * (computed exactly); a query block's compressed query (the block mean) is scored against every key, and a key
 * column is kept for the whole block when its score is within `threshold` of the block-averaged anchor: stripe
 * granularity (a ColumnMask), plus the initial and local keys themselves. No reference code is public: the
 * anchor regions (`initTokens`, `localTokens`) and the default θ = 12 are this library's reading of the paper.
 */
const method = defineEstimator({
  name: 'anchor',
  summary: 'AnchorAttention: key stripes whose block-mean score is within θ of the anchor (max over initial and local keys).',
  paper: PAPERS.anchor,
  budget: { param: 'threshold', denser: 'higher' },
  params: z
    .object({
      threshold: numberParam(0, 1000, 12, 'θ: keep keys whose compressed score is at most this far below the anchor (logit units)'),
      initTokens: intParam(0, 64, 'initial keys in the anchor region, always kept'),
      localTokens: intParam(1, 64, 'recent keys per query in the anchor region, always kept'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { dim } = shape;
    const scale = 1 / Math.sqrt(dim);
    const blocks = new QueryBlocks(shape, ctx.blockQ, causal);
    const anchors = await blockAnchors(input, ctx, blocks, params.initTokens, params.localTokens, scale);
    // The backend marks, per block, the keys whose compressed (block-mean) score is within θ of the block's anchor.
    const cutoffs = anchors.map((a) => a - params.threshold);
    const { atLeast } = await pooledQueryScores({ ...input, qOffset: shape.qOffset }, ctx, ctx.blockQ, scale, { atLeast: cutoffs });
    if (!atLeast) throw new Error('anchor: the backend returned no threshold bits');
    // Stripes go in as runs of consecutive kept keys (whole key blocks become full blocks at once).
    const builder = new SparseMaskBuilder(shape, ctx, { causal });
    for (let h = 0; h < shape.heads; h++) {
      for (let qb = 0; qb < blocks.count; qb++) {
        const at = (h * blocks.count + qb) * atLeast.words;
        const end = blocks.lastKey(qb) + 1;
        // The initial keys, the stripes between them and the local keys, then the local keys: runs in increasing order.
        const init = Math.min(params.initTokens, end);
        const localFrom = Math.max(init, blocks.firstPos(qb) - params.localTokens + 1);
        const stripesEnd = Math.min(end, localFrom);
        builder.row(h, qb, (row) => {
          row.addKeys(0, init);
          addBitRuns(row, atLeast.bits, at, init, stripesEnd);
          row.addKeys(localFrom, blocks.lastPos(qb) + 1);
          // Stripes after the local window exist only in non-causal calls.
          addBitRuns(row, atLeast.bits, at, blocks.lastPos(qb) + 1, end);
        });
      }
    }
    return builder.finish();
  },
});

export const anchor = withRettention(method);

/**
 * The block-averaged anchor of every (head, query block): per row, the max scaled logit over the initial keys and
 * the row's local window, averaged over the block's rows. Two backend calls with in-kernel row maxima: the initial
 * keys (as the call's causality allows), and a sliding window of `localTokens` keys ending at each row.
 */
async function blockAnchors(
  input: EstimatorInput,
  ctx: EstimatorContext,
  blocks: QueryBlocks,
  initTokens: number,
  localTokens: number,
  scale: number,
): Promise<Float64Array> {
  const { heads, kvLength, qLength, qOffset, dim } = input.shape;
  const init = Math.min(initTokens, kvLength);
  const call = { q: input.q, k: input.k, qOffset };
  const initMax =
    init > 0
      ? (await ctx.backend.scores(call, { causal: input.causal, scale, keys: { start: 0, count: init }, reduce: { max: true } })).max
      : undefined;
  const localMax = (await ctx.backend.scores(call, { causal: true, window: localTokens, scale, reduce: { max: true } })).max;
  if (!localMax) throw new Error('anchor: the backend returned no row maxima');
  // Counted as the products of each block's rows with its initial and window keys (the estimate's work).
  ctx.cost.add(dotFlops(heads * blocks.count * ctx.blockQ * (init + ctx.blockQ + localTokens - 1), dim), 'estimate');
  const out = new Float64Array(heads * blocks.count);
  for (let h = 0; h < heads; h++) {
    for (let qb = 0; qb < blocks.count; qb++) {
      const r0 = blocks.firstRow(qb);
      const r1 = blocks.endRow(qb);
      let sum = 0;
      for (let i = r0; i < r1; i++) {
        const best = Math.max(
          initMax ? (initMax.values[h * qLength + i] as number) : -Infinity,
          localMax.values[h * qLength + i] as number,
        );
        sum += best === -Infinity ? 0 : best;
      }
      out[h * blocks.count + qb] = sum / (r1 - r0);
    }
  }
  return out;
}
