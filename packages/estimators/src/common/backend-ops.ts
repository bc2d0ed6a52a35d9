import {
  type BlockScores,
  type EstimatorContext,
  type EstimatorInput,
  type HeadTensor,
  kvHeadOf,
  type PooledScoresOptions,
  type ScoreRows,
  sliceHeads,
} from '@sparseland/core';
import { addFlops, causalProbePairs, dotFlops } from './flops.js';

// Every estimator's heavy work goes through these wrappers: they call the backend the estimator was given and
// report the work to the cost meter, counted one way for all estimators (see flops.ts).

const LABEL = 'estimate';
/** Largest score matrix one backend call returns (floats); bigger products are cut into several calls. */
const MAX_SCORES_PER_CALL = 1 << 23;

/** softmax(Q_last Kᵀ / √d) of the last `count` query rows (MInference's and FlexPrefill's probe). */
export async function probeLastQueries(input: EstimatorInput, ctx: EstimatorContext, count: number): Promise<ScoreRows> {
  const { shape, causal } = input;
  const rows = await ctx.backend.lastQueriesAttention(
    { q: input.q, k: input.k, qOffset: shape.qOffset },
    { count: Math.min(count, shape.qLength), causal },
  );
  const pairs = causalProbePairs(shape.qOffset + rows.rowStart, rows.rows, shape.kvLength, causal);
  ctx.cost.add(dotFlops(pairs * shape.heads, shape.dim), LABEL);
  return rows;
}

/** Pooled Q · pooled Kᵀ per (query block, key block) through the backend; blocks entirely in the future are -Infinity. */
export async function pooledBlockScores(input: EstimatorInput, ctx: EstimatorContext, options: PooledScoresOptions): Promise<BlockScores> {
  const { shape } = input;
  const scores = await ctx.backend.pooledScores({ q: input.q, k: input.k, qOffset: shape.qOffset }, options);
  let finite = 0;
  for (let i = 0; i < scores.data.length; i++) if ((scores.data[i] as number) > -Infinity) finite++;
  const pooled = (options.blockQ > 1 ? shape.heads * shape.qLength : 0) + (options.blockK > 1 ? shape.kvHeads * shape.kvLength : 0);
  ctx.cost.add(addFlops(pooled * shape.dim) + dotFlops(finite, shape.dim), LABEL);
  return scores;
}

/**
 * Mean-pooled query blocks of query head h against every key of its kv head: `[qBlocks][kvLength]` scaled dot
 * products, -Infinity after the block's last query when causal (AnchorAttention, Spark, Double Sparsity).
 */
export async function pooledQueryVsKeys(
  input: { q: HeadTensor; k: HeadTensor; qOffset: number; causal: boolean },
  ctx: EstimatorContext,
  h: number,
  blockQ: number,
  scale: number,
): Promise<Float32Array> {
  const g = kvHeadOf(h, input.q.heads, input.k.heads);
  const q = sliceHeads(input.q, h);
  const k = sliceHeads(input.k, g);
  const scores = await ctx.backend.pooledScores(
    { q, k, qOffset: input.qOffset },
    { blockQ, blockK: 1, causal: input.causal, scale, qPool: 'mean' },
  );
  let finite = 0;
  for (let i = 0; i < scores.data.length; i++) if ((scores.data[i] as number) > -Infinity) finite++;
  ctx.cost.add(addFlops(q.length * q.dim) + dotFlops(finite, q.dim), LABEL);
  return scores.data;
}

/**
 * scale · a·bᵀ for every head: `[a.heads][a.length][b.length]`, head h of `a` against head ⌊h / (a.heads / b.heads)⌋
 * of `b`. A dense product on the backend's score kernels (pooledScores with 1×1 blocks, no causal mask), cut into
 * calls of bounded size. Used for random projections, k-means distances, tree-search candidates and kernel features;
 * with a.heads = b.heads it is a batch of independent products in one call.
 */
export async function scoreMatrix(
  ctx: EstimatorContext,
  a: HeadTensor,
  b: HeadTensor,
  scale = 1,
  limit = MAX_SCORES_PER_CALL,
): Promise<Float32Array> {
  const { dim } = a;
  const group = a.heads / b.heads;
  const out = new Float32Array(a.heads * a.length * b.length);
  if (a.length === 0 || b.length === 0) return out;
  const perGroup = group * a.length * b.length;
  // Whole kv-head groups per call while they fit, else row chunks of one group.
  const groupsPerCall = Math.max(1, Math.floor(limit / perGroup));
  const rowsPerCall = groupsPerCall > 1 ? a.length : Math.max(1, Math.floor(limit / (group * b.length)));
  for (let g0 = 0; g0 < b.heads; g0 += groupsPerCall) {
    const gs = Math.min(groupsPerCall, b.heads - g0);
    const keys = gs === b.heads ? b : headRange(b, g0, gs, 0, b.length);
    for (let r0 = 0; r0 < a.length; r0 += rowsPerCall) {
      const rows = Math.min(rowsPerCall, a.length - r0);
      const q = gs === b.heads && rows === a.length ? a : headRange(a, g0 * group, gs * group, r0, rows);
      const scores = await ctx.backend.pooledScores({ q, k: keys, qOffset: 0 }, { blockQ: 1, blockK: 1, causal: false, scale });
      for (let j = 0; j < gs * group; j++) {
        const to = ((g0 * group + j) * a.length + r0) * b.length;
        out.set(scores.data.subarray(j * rows * b.length, (j + 1) * rows * b.length), to);
      }
    }
  }
  ctx.cost.add(dotFlops(a.heads * a.length * b.length, dim), LABEL);
  return out;
}

/** Heads [h0, h0 + count) and rows [r0, r0 + rows) of t, as a new tensor. */
function headRange(t: HeadTensor, h0: number, count: number, r0: number, rows: number): HeadTensor {
  const { dim, length } = t;
  if (r0 === 0 && rows === length) {
    return { data: t.data.slice(h0 * length * dim, (h0 + count) * length * dim), heads: count, length, dim };
  }
  const data = new Float32Array(count * rows * dim);
  for (let j = 0; j < count; j++) {
    const from = ((h0 + j) * length + r0) * dim;
    data.set(t.data.subarray(from, from + rows * dim), j * rows * dim);
  }
  return { data, heads: count, length: rows, dim };
}
