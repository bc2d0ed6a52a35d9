import { type EstimatorContext, type EstimatorInput, kvHeadOf } from '@sparseland/core';
import { z } from 'zod';
import { pooledQueryVsKeys, scoreMatrix } from '../common/backend-ops.js';
import { defineEstimator } from '../common/define.js';
import { QueryBlocks } from '../common/geometry.js';
import { buildSparseMask } from '../common/mask-builder.js';
import { intParam, numberParam } from '../common/params.js';
import { PAPERS } from '../papers.js';

/**
 * AnchorAttention. The anchor of each query is its largest scaled logit over the initial keys and its local window
 * (computed exactly); a query block's compressed query (the block mean) is scored against every key, and a key
 * column is kept for the whole block when its score is within `threshold` of the block-averaged anchor: stripe
 * granularity (a ColumnMask), plus the initial and local keys themselves. No reference code is public: the
 * anchor regions (`initTokens`, `localTokens`) and the default θ = 12 are this library's reading of the paper.
 */
export const anchor = defineEstimator({
  name: 'anchor',
  summary: 'AnchorAttention: key stripes whose block-mean score is within θ of the anchor (max over initial and local keys).',
  paper: PAPERS.anchor,
  params: z
    .object({
      threshold: numberParam(0, 1000, 12, 'θ: keep keys whose compressed score is at most this far below the anchor (logit units)'),
      initTokens: intParam(0, 64, 'initial keys in the anchor region, always kept'),
      localTokens: intParam(1, 64, 'recent keys per query in the anchor region, always kept'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { heads, kvLength, dim } = shape;
    const scale = 1 / Math.sqrt(dim);
    const blocks = new QueryBlocks(shape, ctx.blockQ, causal);
    const anchors = await blockAnchors(input, ctx, blocks, params.initTokens, params.localTokens, scale);
    const stripes: Int32Array[][] = [];
    for (let h = 0; h < heads; h++) {
      const scores = await pooledQueryVsKeys({ ...input, qOffset: shape.qOffset }, ctx, h, ctx.blockQ, scale);
      const perBlock: Int32Array[] = [];
      for (let qb = 0; qb < blocks.count; qb++) {
        const cutoff = (anchors[h * blocks.count + qb] as number) - params.threshold;
        const base = qb * kvLength;
        const keep: number[] = [];
        for (let j = 0; j < kvLength; j++) if ((scores[base + j] as number) >= cutoff) keep.push(j);
        perBlock.push(Int32Array.from(keep));
      }
      stripes.push(perBlock);
    }
    return buildSparseMask(shape, ctx, { causal }, (h, qb, row) => {
      row.addKeys(0, params.initTokens);
      row.addKeys(blocks.firstPos(qb) - params.localTokens + 1, blocks.lastPos(qb) + 1);
      for (const j of (stripes[h] as Int32Array[])[qb] as Int32Array) row.addKey(j);
    });
  },
});

/**
 * The block-averaged anchor of every (head, query block): per row, the max scaled logit over the initial keys and
 * the row's local window, averaged over the block's rows. The products run on the backend, many blocks per call.
 */
async function blockAnchors(
  input: EstimatorInput,
  ctx: EstimatorContext,
  blocks: QueryBlocks,
  initTokens: number,
  localTokens: number,
  scale: number,
): Promise<Float64Array> {
  const { heads, kvHeads, kvLength, qLength, qOffset, dim } = input.shape;
  const init = Math.min(initTokens, kvLength);
  const span = ctx.blockQ + localTokens - 1;
  const keysPer = init + span;
  const out = new Float64Array(heads * blocks.count);
  const perCall = Math.max(1, Math.floor((1 << 22) / (ctx.blockQ * keysPer)));
  const total = heads * blocks.count;
  for (let b0 = 0; b0 < total; b0 += perCall) {
    const count = Math.min(perCall, total - b0);
    const qData = new Float32Array(count * ctx.blockQ * dim);
    const kData = new Float32Array(count * keysPer * dim);
    for (let n = 0; n < count; n++) {
      const h = Math.floor((b0 + n) / blocks.count);
      const qb = (b0 + n) % blocks.count;
      const g = kvHeadOf(h, heads, kvHeads);
      const r0 = blocks.firstRow(qb);
      const r1 = blocks.endRow(qb);
      qData.set(input.q.data.subarray((h * qLength + r0) * dim, (h * qLength + r1) * dim), n * ctx.blockQ * dim);
      kData.set(input.k.data.subarray(g * kvLength * dim, (g * kvLength + init) * dim), n * keysPer * dim);
      const w0 = blocks.firstPos(qb) - localTokens + 1;
      for (let t = 0; t < span; t++) {
        const j = w0 + t;
        if (j < 0 || j >= kvLength) continue;
        kData.set(input.k.data.subarray((g * kvLength + j) * dim, (g * kvLength + j + 1) * dim), (n * keysPer + init + t) * dim);
      }
    }
    const scores = await scoreMatrix(
      ctx,
      { data: qData, heads: count, length: ctx.blockQ, dim },
      { data: kData, heads: count, length: keysPer, dim },
      scale,
    );
    for (let n = 0; n < count; n++) {
      const qb = (b0 + n) % blocks.count;
      const r0 = blocks.firstRow(qb);
      const r1 = blocks.endRow(qb);
      const w0 = blocks.firstPos(qb) - localTokens + 1;
      let sum = 0;
      for (let i = r0; i < r1; i++) {
        const pos = qOffset + i;
        const last = blocks.lastKeyOfRow(i);
        const base = (n * ctx.blockQ + (i - r0)) * keysPer;
        let best = -Infinity;
        for (let j = 0; j < init && j <= last; j++) best = Math.max(best, scores[base + j] as number);
        for (let t = 0; t < span; t++) {
          const j = w0 + t;
          if (j < 0 || j > last || j > pos || pos - j >= localTokens) continue;
          best = Math.max(best, scores[base + init + t] as number);
        }
        sum += best === -Infinity ? 0 : best;
      }
      out[b0 + n] = sum / (r1 - r0);
    }
  }
  return out;
}
