import { defineEstimator } from '@sparseland/core';
import type { EstimatorContext, EstimatorInput } from '@sparseland/core/kit';
import { intParam, numberParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { pooledQueryChunks, scoreMatrix } from '../common/backend-ops.js';
import { QueryBlocks } from '../common/geometry.js';
import { addKeysAtLeast, SparseMaskBuilder } from '../common/mask-builder.js';
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
    // Rows are built as the scores arrive (per kv head, chunks of query blocks): stripes go in as runs of consecutive
    // kept keys (whole key blocks become full blocks at once), nothing per block is stored.
    const builder = new SparseMaskBuilder(shape, ctx, { causal });
    await pooledQueryChunks({ ...input, qOffset: shape.qOffset }, ctx, ctx.blockQ, scale, (h, qb0, count, scores, at, keys) => {
      for (let qb = qb0; qb < qb0 + count; qb++) {
        const cutoff = (anchors[h * blocks.count + qb] as number) - params.threshold;
        const base = at + (qb - qb0) * keys;
        const end = Math.min(keys, blocks.lastKey(qb) + 1);
        // The initial keys, the stripes between them and the local keys, then the local keys: runs in increasing order.
        const init = Math.min(params.initTokens, end);
        const localFrom = Math.max(init, blocks.firstPos(qb) - params.localTokens + 1);
        const stripesEnd = Math.min(end, localFrom);
        builder.row(h, qb, (row) => {
          row.addKeys(0, init);
          addKeysAtLeast(row, scores, base, init, stripesEnd, cutoff);
          row.addKeys(localFrom, blocks.lastPos(qb) + 1);
          // Stripes after the local window exist only in non-causal calls.
          addKeysAtLeast(row, scores, base, blocks.lastPos(qb) + 1, end, cutoff);
        });
      }
    });
    return builder.finish();
  },
});

export const anchor = withRettention(method);

/**
 * The block-averaged anchor of every (head, query block): per row, the max scaled logit over the initial keys and
 * the row's local window, averaged over the block's rows. The products run on the backend, many blocks per call;
 * the query heads of a kv head share one product per block (their rows against the block's initial and window keys).
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
  const group = heads / kvHeads;
  const init = Math.min(initTokens, kvLength);
  const span = ctx.blockQ + localTokens - 1;
  const keysPer = init + span;
  const rowsPer = group * ctx.blockQ;
  const out = new Float64Array(heads * blocks.count);
  const perCall = Math.max(1, Math.floor((1 << 22) / (rowsPer * keysPer)));
  const total = kvHeads * blocks.count;
  const qd = input.q.data;
  const kd = input.k.data;
  // One pair of buffers for every call (the last call uses part of them). Slots a call does not fill (rows past a
  // short block, window keys before key 0) hold stale values whose scores the reduction below never reads.
  const qBuffer = new Float32Array(Math.min(perCall, total) * rowsPer * dim);
  const kBuffer = new Float32Array(Math.min(perCall, total) * keysPer * dim);
  for (let b0 = 0; b0 < total; b0 += perCall) {
    const count = Math.min(perCall, total - b0);
    const qData = count * rowsPer * dim === qBuffer.length ? qBuffer : qBuffer.subarray(0, count * rowsPer * dim);
    const kData = count * keysPer * dim === kBuffer.length ? kBuffer : kBuffer.subarray(0, count * keysPer * dim);
    for (let n = 0; n < count; n++) {
      const g = Math.floor((b0 + n) / blocks.count);
      const qb = (b0 + n) % blocks.count;
      const r0 = blocks.firstRow(qb);
      const r1 = blocks.endRow(qb);
      for (let j = 0; j < group; j++) {
        const h = g * group + j;
        qData.set(qd.subarray((h * qLength + r0) * dim, (h * qLength + r1) * dim), (n * rowsPer + j * ctx.blockQ) * dim);
      }
      kData.set(kd.subarray(g * kvLength * dim, (g * kvLength + init) * dim), n * keysPer * dim);
      // The window keys [w0, w0 + span) that exist, in one copy.
      const w0 = blocks.firstPos(qb) - localTokens + 1;
      const a = Math.max(0, w0);
      const b = Math.min(kvLength, w0 + span);
      if (b > a) kData.set(kd.subarray((g * kvLength + a) * dim, (g * kvLength + b) * dim), (n * keysPer + init + (a - w0)) * dim);
    }
    const scores = await scoreMatrix(
      ctx,
      { data: qData, heads: count, length: rowsPer, dim },
      { data: kData, heads: count, length: keysPer, dim },
      scale,
    );
    for (let n = 0; n < count; n++) {
      const g = Math.floor((b0 + n) / blocks.count);
      const qb = (b0 + n) % blocks.count;
      const r0 = blocks.firstRow(qb);
      const r1 = blocks.endRow(qb);
      const w0 = blocks.firstPos(qb) - localTokens + 1;
      for (let j = 0; j < group; j++) {
        let sum = 0;
        for (let i = r0; i < r1; i++) {
          const pos = qOffset + i;
          const last = blocks.lastKeyOfRow(i);
          const base = (n * rowsPer + j * ctx.blockQ + (i - r0)) * keysPer;
          let best = -Infinity;
          for (let t = 0; t < init && t <= last; t++) best = Math.max(best, scores[base + t] as number);
          // Window keys w0 + t with pos − localTokens < key ≤ min(pos, last).
          const t0 = Math.max(0, -w0, pos - localTokens + 1 - w0);
          const t1 = Math.min(span - 1, Math.min(last, pos) - w0);
          for (let t = t0; t <= t1; t++) best = Math.max(best, scores[base + init + t] as number);
          sum += best === -Infinity ? 0 : best;
        }
        out[(g * group + j) * blocks.count + qb] = sum / (r1 - r0);
      }
    }
  }
  return out;
}
