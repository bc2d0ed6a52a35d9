import type { HeadTensor } from '@sparseland/core';
import type { BlockScores, EstimatorContext, EstimatorInput, PooledScoresOptions, ScoreRows } from '@sparseland/core/kit';
import { addFlops, causalProbePairs, dotFlops } from './flops.js';

// Every estimator's heavy work goes through these wrappers: they call the backend the estimator was given and
// report the work to the cost meter, counted one way for all estimators (see flops.ts).

const LABEL = 'estimate';
/** Largest score matrix one backend call returns (floats); bigger products are cut into several calls. */
const MAX_SCORES_PER_CALL = 1 << 23;
/** Scores per call when a product is streamed (8 MB): small enough for the allocator to reuse the buffers. */
const STREAM_SCORES_PER_CALL = 1 << 21;

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

/** Floats of scores one grouped pooled-query call returns at most (64 MB). */
const MAX_POOLED_PER_CALL = 1 << 24;

/**
 * Mean-pooled query blocks against the keys of their kv head (AnchorAttention, Spark, Double Sparsity), for every
 * query head, grouped by kv head and cut into chunks of query blocks: one backend call
 * per (kv head, chunk) packs the kv head's keys once for all its query heads, and a causal chunk only gets the keys
 * up to its last position. `visit(h, qb0, count, data, at, keys)` receives query blocks [qb0, qb0 + count) of head
 * h as `count` rows of `keys` scaled dot products at data[at...] (key j of block qb at data[at + (qb − qb0)·keys +
 * j]; keys after a block's last query are -Infinity when causal, keys ≥ `keys` are not visible to the chunk). The
 * pooling and the finite dot products are counted.
 */
export async function pooledQueryChunks(
  input: { q: HeadTensor; k: HeadTensor; qOffset: number; causal: boolean },
  ctx: EstimatorContext,
  blockQ: number,
  scale: number,
  visit: (h: number, qb0: number, count: number, data: Float32Array, at: number, keys: number) => void,
  limit = MAX_POOLED_PER_CALL,
): Promise<void> {
  const { q, k, qOffset, causal } = input;
  const { dim } = q;
  const group = q.heads / k.heads;
  const qBlocks = Math.ceil(q.length / blockQ);
  const perCall = Math.max(1, Math.floor(limit / (group * Math.max(1, k.length))));
  let flops = 0;
  for (let g = 0; g < k.heads; g++) {
    for (let qb0 = 0; qb0 < qBlocks; qb0 += perCall) {
      const count = Math.min(perCall, qBlocks - qb0);
      const r0 = qb0 * blockQ;
      const r1 = Math.min(q.length, (qb0 + count) * blockQ);
      const keys = causal ? Math.max(0, Math.min(k.length, qOffset + r1)) : k.length;
      if (keys === 0) {
        // Nothing visible yet (a chunk before the first key): every score is -Infinity.
        const empty = new Float32Array(count * 0);
        for (let j = 0; j < group; j++) visit(g * group + j, qb0, count, empty, 0, 0);
        flops += addFlops(group * (r1 - r0) * dim);
        continue;
      }
      const rows = headRange(q, g * group, group, r0, r1 - r0);
      const kg = headRange(k, g, 1, 0, keys);
      const scores = await ctx.backend.pooledScores(
        { q: rows, k: kg, qOffset: qOffset + r0 },
        { blockQ, blockK: 1, causal, scale, qPool: 'mean' },
      );
      let finite = 0;
      for (let qb = qb0; qb < qb0 + count; qb++) {
        const lastPos = qOffset + Math.min(q.length, (qb + 1) * blockQ) - 1;
        finite += causal ? Math.max(0, Math.min(keys, lastPos + 1)) : keys;
      }
      flops += addFlops(group * (r1 - r0) * dim) + dotFlops(group * finite, dim);
      for (let j = 0; j < group; j++) visit(g * group + j, qb0, count, scores.data, j * count * keys, keys);
    }
  }
  ctx.cost.add(flops, LABEL);
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
  const out = new Float32Array(a.heads * a.length * b.length);
  await scoreChunks(
    ctx,
    a,
    b,
    scale,
    (h, r0, rows, data, at) => {
      out.set(data.subarray(at, at + rows * b.length), (h * a.length + r0) * b.length);
    },
    limit,
  );
  return out;
}

/**
 * The same product as `scoreMatrix`, handed over chunk by chunk instead of assembled: `visit(h, r0, rows, data, at)`
 * gets rows [r0, r0 + rows) of head h of `a` as data[at, at + rows · b.length) (row-major, b.length per row), in
 * increasing (h, r0) order. Nothing bigger than one backend call's scores is held, so callers reduce huge products
 * (projections of every token, similarities to every centroid) as they arrive.
 */
export async function scoreChunks(
  ctx: EstimatorContext,
  a: HeadTensor,
  b: HeadTensor,
  scale: number,
  visit: (h: number, r0: number, rows: number, data: Float32Array, at: number) => void,
  limit = STREAM_SCORES_PER_CALL,
): Promise<void> {
  const { dim } = a;
  const group = a.heads / b.heads;
  if (a.length === 0 || b.length === 0) return;
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
      for (let j = 0; j < gs * group; j++) visit(g0 * group + j, r0, rows, scores.data, j * rows * b.length);
    }
  }
  ctx.cost.add(dotFlops(a.heads * a.length * b.length, dim), LABEL);
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
