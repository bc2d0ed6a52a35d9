import type { HeadTensor } from '@sparseland/core';
import {
  type BlockScores,
  type EstimatorContext,
  type EstimatorInput,
  MAX_SCORES_TOP_K,
  type PooledScoresOptions,
  type ProbeSums,
  type ScoreReductions,
  type ScoresOptions,
  type ScoresResult,
} from '@sparseland/core/kit';
import { addFlops, causalProbePairs, dotFlops } from './flops.js';
import { topIndices } from './select.js';

// Every estimator's heavy work goes through these wrappers: they call the backend the estimator was given and
// report the work to the cost meter, counted one way for all estimators (see flops.ts).

const LABEL = 'estimate';
/** Largest score matrix one backend call returns (floats); bigger products are cut into several calls. */
const MAX_SCORES_PER_CALL = 1 << 23;

/**
 * softmax(Q_last Kᵀ / √d) of the last `count` query rows (MInference's, FlexPrefill's and ZipVL's probe), summed per
 * head by key column and by diagonal on the backend. Counts the probe's dot products and one addition per probe
 * value into each of the two sums.
 */
export async function probeLastQuerySums(input: EstimatorInput, ctx: EstimatorContext, count: number): Promise<ProbeSums> {
  const { shape, causal } = input;
  const sums = await ctx.backend.lastQueriesSums(
    { q: input.q, k: input.k, qOffset: shape.qOffset },
    { count: Math.min(count, shape.qLength), causal },
  );
  const pairs = causalProbePairs(shape.qOffset + sums.rowStart, sums.rows, shape.kvLength, causal);
  ctx.cost.add(dotFlops(pairs * shape.heads, shape.dim) + addFlops(2 * shape.heads * sums.rows * shape.kvLength), LABEL);
  return sums;
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
 * One `scores` call of mean-pooled query blocks (AnchorAttention, Spark, Double Sparsity): row qb of head h is the
 * mean of block qb's query rows, scored against the keys it sees (causal: up to the block's last position), with the
 * reductions asked for computed by the backend. The pooling and the visible dot products are counted (once, also
 * when the caller makes a second pass over the same scores: the estimate is the algorithm's work).
 */
export async function pooledQueryScores(
  input: { q: HeadTensor; k: HeadTensor; qOffset: number; causal: boolean },
  ctx: EstimatorContext,
  blockQ: number,
  scale: number,
  reduce: ScoreReductions,
  count = true,
): Promise<ScoresResult> {
  const { q, k, qOffset, causal } = input;
  const result = await ctx.backend.scores({ q, k, qOffset }, { queryBlock: blockQ, causal, scale, reduce });
  if (count) countPooledQueries(input, ctx, blockQ);
  return result;
}

/** Counts the work of pooled query blocks against the keys they see: the pooling, and one dot product per visible key. */
export function countPooledQueries(
  input: { q: HeadTensor; k: HeadTensor; qOffset: number; causal: boolean },
  ctx: EstimatorContext,
  blockQ: number,
): void {
  const { q, k, qOffset, causal } = input;
  const qBlocks = Math.ceil(q.length / blockQ);
  let visible = 0;
  for (let qb = 0; qb < qBlocks; qb++) {
    const lastPos = qOffset + Math.min(q.length, (qb + 1) * blockQ) - 1;
    visible += causal ? Math.max(0, Math.min(k.length, lastPos + 1)) : k.length;
  }
  ctx.cost.add(addFlops(q.heads * q.length * q.dim) + dotFlops(q.heads * visible, q.dim), LABEL);
}

/**
 * scale · a·bᵀ for every head: `[a.heads][a.length][b.length]`, head h of `a` against head ⌊h / (a.heads / b.heads)⌋
 * of `b`, on the backend's `scores` op (no causal mask), cut into calls of bounded size. Used for random projections
 * and kernel features; with a.heads = b.heads it is a batch of independent products in one call.
 */
export async function scoreMatrix(
  ctx: EstimatorContext,
  a: HeadTensor,
  b: HeadTensor,
  scale = 1,
  limit = MAX_SCORES_PER_CALL,
): Promise<Float32Array> {
  let out: Float32Array | undefined;
  await eachScoreRows(
    ctx,
    a,
    b,
    scale,
    (r0, rows, data) => {
      // One call covering every row: its array is the matrix.
      if (rows === a.length) {
        out = data;
        return;
      }
      out ??= new Float32Array(a.heads * a.length * b.length);
      for (let h = 0; h < a.heads; h++) {
        out.set(data.subarray(h * rows * b.length, (h + 1) * rows * b.length), (h * a.length + r0) * b.length);
      }
    },
    limit,
  );
  return out ?? new Float32Array(a.heads * a.length * b.length);
}

/**
 * The same product streamed: `consume(r0, rows, data)` gets rows [r0, r0 + rows) of every head (`data` is
 * `[heads][rows][b.length]`) as each backend call returns, so a caller that reduces or transforms the rows never holds
 * the whole matrix. Counted as scoreMatrix.
 */
export async function eachScoreRows(
  ctx: EstimatorContext,
  a: HeadTensor,
  b: HeadTensor,
  scale: number,
  consume: (r0: number, rows: number, data: Float32Array) => void,
  limit = MAX_SCORES_PER_CALL,
): Promise<void> {
  if (a.length > 0 && b.length > 0) {
    const rowsPerCall = Math.max(1, Math.floor(limit / (a.heads * b.length)));
    for (let r0 = 0; r0 < a.length; r0 += rowsPerCall) {
      const rows = Math.min(rowsPerCall, a.length - r0);
      const result = await ctx.backend.scores(
        { q: a, k: b, qOffset: 0 },
        { causal: false, scale, rows: { start: r0, count: rows }, output: true },
      );
      consume(r0, rows, result.scores as Float32Array);
    }
  }
  ctx.cost.add(dotFlops(a.heads * a.length * b.length, a.dim), LABEL);
}

/**
 * Per row of every head of `a` (against its head of `b`, as scoreMatrix, no causal mask): reductions of its scale ·
 * a·bᵀ row made by the backend, e.g. the first largest and smallest (Reformer's angular hash) or the top k (balanced
 * routing). Counted as the full product.
 */
export async function rowReductions(
  ctx: EstimatorContext,
  a: HeadTensor,
  b: HeadTensor,
  reduce: ScoreReductions,
  scale = 1,
): Promise<ScoresResult> {
  const result = await ctx.backend.scores({ q: a, k: b, qOffset: 0 }, { causal: false, scale, reduce });
  ctx.cost.add(dotFlops(a.heads * a.length * b.length, a.dim), LABEL);
  return result;
}

/**
 * The `k` largest of each row (ties to the lower key, -Infinity and NaN never chosen) as `[heads][rows][k]` key
 * indices (-1 padding), from the backend's in-kernel top-k; above MAX_SCORES_TOP_K from the scores themselves.
 * `options` are the scores call's (rows, keys, pooling, causality); counting is the caller's.
 */
export async function topKeys(
  ctx: EstimatorContext,
  input: { q: HeadTensor; k: HeadTensor; qOffset: number },
  options: ScoresOptions,
  k: number,
): Promise<{ k: number; indices: Int32Array }> {
  if (k <= MAX_SCORES_TOP_K) {
    const top = (await ctx.backend.scores(input, { ...options, reduce: { topK: k } })).topK;
    return top ? { k: top.k, indices: top.indices } : { k: 0, indices: new Int32Array(0) };
  }
  const result = await ctx.backend.scores(input, { ...options, output: true, reduce: {} });
  const keys = result.keys;
  const kk = Math.min(k, keys);
  const indices = new Int32Array(result.heads * result.rows * kk).fill(-1);
  const scores = result.scores as Float32Array;
  const start = options.keys && 'start' in options.keys ? options.keys.start : 0;
  for (let row = 0; row < result.heads * result.rows; row++) {
    const top = topIndices(scores, row * keys, (row + 1) * keys, kk);
    for (let t = 0; t < top.length; t++) indices[row * kk + t] = (top[t] as number) - row * keys + start;
  }
  return { k: kk, indices };
}
