import { defineEstimator, type HeadTensor, kvHeadOf, sliceHeads } from '@sparseland/core';
import { createRng, type EstimatorContext, type EstimatorInput, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { rowReductions, topKeys } from '../common/backend-ops.js';
import { addFlops, dotFlops } from '../common/flops.js';
import { mixSeed } from '../common/lsh.js';
import { buildSparseMask } from '../common/mask-builder.js';
import { PAPERS } from '../papers.js';
import { withRettention } from '../rettention/with-rettention.js';

/**
 * Routing Transformer's content-based clusters, training-free. Per head, queries and keys are L2-normalised and
 * clustered together by spherical k-means (centroids start at random tokens and take `iterations` Lloyd steps on a
 * seeded sample of `fitSamples` tokens); routing is balanced: each centroid takes its `windowSize` most similar
 * queries and keys. A query attends to the earlier keys of every cluster it belongs to, plus a local window of
 * `localWindow` keys (the paper pairs routing heads with local heads). Query blocks keep their rows' union.
 * Defaults follow lucidrains/routing-transformer: window (tokens per cluster) 64, clusters = N / window, local
 * window 256, 10 k-means iterations at initialisation. The reference updates centroids by EMA (0.999) during
 * training; here they are fitted on the call's own tokens.
 */
const method = defineEstimator({
  name: 'routing',
  summary: 'Routing Transformer: spherical k-means clusters of Q and K, attend within cluster plus a local window.',
  paper: PAPERS.routing,
  budget: { param: 'windowSize', denser: 'higher' },
  params: z
    .object({
      windowSize: intParam(1, 64, 'tokens routed to each cluster (routing-transformer window_size 64)'),
      clusters: intParam(0, 0, 'clusters per head; 0 = ⌈N / windowSize⌉ (the reference: max_seq_len // window_size)'),
      localWindow: intParam(0, 256, 'recent keys every query also sees (local_attn_window_size 256)'),
      iterations: intParam(0, 10, 'k-means iterations (the reference initialises with 10)'),
      fitSamples: intParam(1, 4096, 'tokens the centroids are fitted on (seeded sample of queries and keys)'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { heads, kvHeads, kvLength, qLength, qOffset, dim } = shape;
    const clusters = Math.max(1, params.clusters || Math.ceil(kvLength / params.windowSize));
    // One buffer of unit rows, reused for a kv head's keys and then each of its query heads in turn: fresh memory
    // is slow to touch, and a normalised copy of all of Q or K would be as large as the input.
    // The k-means sample (heads × fitSamples rows) lives in it first.
    const unit = new Float32Array(Math.max(qLength, kvLength, heads * fitCount(shape, clusters, params)) * dim);
    const q: HeadTensor = { data: unit.subarray(0, qLength * dim), heads: 1, length: qLength, dim };
    const k: HeadTensor = { data: unit.subarray(0, kvLength * dim), heads: 1, length: kvLength, dim };
    ctx.cost.add(addFlops(2 * (heads * qLength + kvHeads * kvLength) * dim), 'estimate');
    const centroidsOfAll = await fitCentroids(ctx, input, clusters, params, unit);
    // Per query head: the clusters each query block belongs to, and each cluster's keys.
    const blockClusters: Uint8Array[] = [];
    const clusterKeys: Int32Array[][] = [];
    const qBlocks = Math.ceil(qLength / ctx.blockQ);
    const group = heads / kvHeads;
    for (let g = 0; g < kvHeads; g++) {
      // Balanced routing: each centroid's windowSize most similar queries and keys. The product is taken centroid-
      // major (one contiguous row of similarities per centroid) and reduced as each call's rows arrive; the keys
      // of a kv head are routed for all of its query heads' centroids in one call.
      normalizeRowsInto(input.k, g, k.data);
      const groupCentroids = sliceHeads(centroidsOfAll, g * group, (g + 1) * group);
      await centroidTop(ctx, groupCentroids, k, params.windowSize, (j, _c, tokens) => {
        const h = g * group + j;
        (clusterKeys[h] ??= []).push(tokens);
      });
      for (let j = 0; j < group; j++) {
        const h = g * group + j;
        normalizeRowsInto(input.q, h, q.data);
        const member = new Uint8Array(qBlocks * clusters);
        await centroidTop(ctx, sliceHeads(groupCentroids, j), q, params.windowSize, (_j, c, tokens) => {
          for (const i of tokens) member[Math.floor(i / ctx.blockQ) * clusters + c] = 1;
        });
        blockClusters[h] = member;
      }
    }
    return buildSparseMask(shape, ctx, { causal }, (h, qb, row) => {
      const first = qOffset + qb * ctx.blockQ;
      const last = qOffset + Math.min(qLength, (qb + 1) * ctx.blockQ) - 1;
      row.addKeys(first - params.localWindow + 1, last + 1);
      const member = blockClusters[h] as Uint8Array;
      const keysOf = clusterKeys[h] as Int32Array[];
      for (let c = 0; c < clusters; c++) {
        if (!member[qb * clusters + c]) continue;
        for (const j of keysOf[c] as Int32Array) row.addKey(j);
      }
    });
  },
});

export const routing = withRettention(method);

/**
 * Per centroid head and centroid (in order), the `count` tokens most similar to it, ascending (ties to the earlier
 * token), from the backend's in-kernel top-k of the centroid-major product; `tokens` is one head, shared by every
 * centroid head.
 */
async function centroidTop(
  ctx: EstimatorContext,
  centroids: HeadTensor,
  tokens: HeadTensor,
  count: number,
  take: (head: number, c: number, tokens: Int32Array) => void,
): Promise<void> {
  const top = await topKeys(ctx, { q: centroids, k: tokens, qOffset: 0 }, { causal: false }, count);
  ctx.cost.add(dotFlops(centroids.heads * centroids.length * tokens.length, centroids.dim), 'estimate');
  for (let h = 0; h < centroids.heads; h++) {
    for (let c = 0; c < centroids.length; c++) {
      const row = h * centroids.length + c;
      const chosen = top.indices.subarray(row * top.k, (row + 1) * top.k).filter((j) => j >= 0);
      take(h, c, chosen.sort());
    }
  }
}

/** Head h's rows of t scaled to unit L2 norm (zero rows stay zero), written to `out` ([length][dim]). */
function normalizeRowsInto(t: HeadTensor, h: number, out: Float32Array): void {
  for (let r = 0; r < t.length; r++) normalizeRowInto(t.data, (h * t.length + r) * t.dim, t.dim, out, r * t.dim);
}

/** src[from, from + dim) scaled to unit L2 norm (a zero row stays zero) into out[to, to + dim). */
function normalizeRowInto(src: Float32Array, from: number, dim: number, out: Float32Array, to: number): void {
  let norm = 0;
  for (let c = 0; c < dim; c++) {
    const x = src[from + c] as number;
    norm += x * x;
  }
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let c = 0; c < dim; c++) out[to + c] = (src[from + c] as number) * inv;
}

/** Tokens per head the centroids are fitted on: fitSamples, at least one per cluster, at most every token. */
function fitCount(shape: { qLength: number; kvLength: number }, clusters: number, params: { fitSamples: number }): number {
  return Math.min(shape.qLength + shape.kvLength, Math.max(params.fitSamples, clusters));
}

/**
 * Spherical k-means per query head on a seeded sample of the head's unit queries and keys (its kv head's), every
 * head in the same backend call per iteration: returns [heads][clusters][dim] unit centroids.
 */
async function fitCentroids(
  ctx: EstimatorContext,
  input: EstimatorInput,
  clusters: number,
  params: { iterations: number; fitSamples: number },
  scratch: Float32Array,
): Promise<HeadTensor> {
  const { heads, kvHeads, qLength, kvLength, dim } = input.shape;
  const pool = qLength + kvLength;
  const count = fitCount(input.shape, clusters, params);
  const sample = scratch.subarray(0, heads * count * dim);
  const centroids = new Float32Array(heads * clusters * dim);
  for (let h = 0; h < heads; h++) {
    const g = kvHeadOf(h, heads, kvHeads);
    const rng = createRng(mixSeed(ctx.seed, ctx.layer, h, 3));
    for (let s = 0; s < count; s++) {
      const pick = count === pool ? s : rng.int(pool);
      const to = (h * count + s) * dim;
      if (pick < qLength) normalizeRowInto(input.q.data, (h * qLength + pick) * dim, dim, sample, to);
      else normalizeRowInto(input.k.data, (g * kvLength + pick - qLength) * dim, dim, sample, to);
    }
    for (let c = 0; c < clusters; c++) {
      const from = (h * count + rng.int(count)) * dim;
      centroids.set(sample.subarray(from, from + dim), (h * clusters + c) * dim);
    }
  }
  const samples: HeadTensor = { data: sample, heads, length: count, dim };
  const centroidTensor: HeadTensor = { data: centroids, heads, length: clusters, dim };
  const sums = new Float64Array(clusters * dim);
  const counts = new Int32Array(clusters);
  for (let it = 0; it < params.iterations; it++) {
    // Nearest centroid of each sample (the first on ties): the backend's row maximum, query head h against its own
    // centroids (as many "kv heads" as heads).
    const nearest = (await rowReductions(ctx, samples, centroidTensor, { max: true })).max;
    if (!nearest) throw new Error('routing: the backend returned no row maxima');
    for (let h = 0; h < heads; h++) {
      sums.fill(0);
      counts.fill(0);
      for (let s = 0; s < count; s++) {
        const best = Math.max(0, nearest.indices[h * count + s] as number);
        counts[best] = (counts[best] as number) + 1;
        addRow(sums, best * dim, sample, (h * count + s) * dim, dim);
      }
      for (let c = 0; c < clusters; c++) {
        if (counts[c] === 0) continue;
        let norm = 0;
        for (let d = 0; d < dim; d++) norm += (sums[c * dim + d] as number) ** 2;
        const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
        const at = (h * clusters + c) * dim;
        for (let d = 0; d < dim; d++) centroids[at + d] = (sums[c * dim + d] as number) * inv;
      }
    }
    ctx.cost.add(addFlops(heads * count * dim), 'estimate');
  }
  return centroidTensor;
}

/** sums[to, to + dim) += src[from, from + dim), four lanes per step (the k-means update's inner loop). */
function addRow(sums: Float64Array, to: number, src: Float32Array, from: number, dim: number): void {
  let d = 0;
  for (; d + 4 <= dim; d += 4) {
    sums[to + d] = (sums[to + d] as number) + (src[from + d] as number);
    sums[to + d + 1] = (sums[to + d + 1] as number) + (src[from + d + 1] as number);
    sums[to + d + 2] = (sums[to + d + 2] as number) + (src[from + d + 2] as number);
    sums[to + d + 3] = (sums[to + d + 3] as number) + (src[from + d + 3] as number);
  }
  for (; d < dim; d++) sums[to + d] = (sums[to + d] as number) + (src[from + d] as number);
}
