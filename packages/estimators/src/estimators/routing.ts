import { defineEstimator, type HeadTensor, kvHeadOf, sliceHeads } from '@sparseland/core';
import { createRng, type EstimatorContext, type EstimatorInput, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { rowReductions, topKeys } from '../common/backend-ops.js';
import { addFlops, dotFlops } from '../common/flops.js';
import { mixSeed } from '../common/lsh.js';
import { buildSparseMask } from '../common/mask-builder.js';
import { headsView } from '../common/sub-input.js';
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
    // Two buffers of unit rows, each reused for one kv head's keys or one query head's queries in turn: while the
    // backend routes one head, the next is normalised into the other buffer (fresh memory is slow to touch, and a
    // normalised copy of all of Q or K would be as large as the input). The k-means sample (heads × fitSamples
    // rows) lives in the first one before that.
    const rows = Math.max(qLength, kvLength);
    const units = [new Float32Array(Math.max(rows, heads * fitCount(shape, clusters, params)) * dim), new Float32Array(rows * dim)];
    ctx.cost.add(addFlops(2 * (heads * qLength + kvHeads * kvLength) * dim), 'estimate');
    const centroidsOfAll = await fitCentroids(ctx, input, clusters, params, units[0] as Float32Array);
    // Per query head: the clusters each query block belongs to, and each cluster's keys.
    const blockClusters: Uint8Array[] = [];
    const clusterKeys: Int32Array[][] = [];
    const qBlocks = Math.ceil(qLength / ctx.blockQ);
    const group = heads / kvHeads;
    // Balanced routing: each centroid's windowSize most similar queries and keys. The product is taken centroid-major
    // (one contiguous row of similarities per centroid) and reduced in the kernels; the keys of a kv head are routed
    // for all of its query heads' centroids in one call, then each query head's queries for its own centroids.
    const steps: RoutingStep[] = [];
    for (let g = 0; g < kvHeads; g++) {
      const groupCentroids = sliceHeads(centroidsOfAll, g * group, (g + 1) * group);
      steps.push({
        source: input.k,
        head: g,
        centroids: groupCentroids,
        take: (j, _c, tokens) => {
          (clusterKeys[g * group + j] ??= []).push(tokens);
        },
      });
      for (let j = 0; j < group; j++) {
        const h = g * group + j;
        const member = new Uint8Array(qBlocks * clusters);
        blockClusters[h] = member;
        steps.push({
          source: input.q,
          head: h,
          centroids: sliceHeads(groupCentroids, j),
          take: (_j, c, tokens) => {
            for (const i of tokens) member[Math.floor(i / ctx.blockQ) * clusters + c] = 1;
          },
        });
      }
    }
    const start = (i: number) => {
      const step = steps[i] as RoutingStep;
      const unit = units[i % 2] as Float32Array;
      const { length } = step.source;
      normalizeRowsInto(step.source, step.head, unit);
      const tokens: HeadTensor = { data: unit.subarray(0, length * dim), heads: 1, length, dim };
      return centroidTop(ctx, step.centroids, tokens, params.windowSize);
    };
    let pending = start(0);
    for (let i = 0; i < steps.length; i++) {
      // The next step's rows are normalised (and its call queued) before this step's result is read.
      const next = i + 1 < steps.length ? start(i + 1) : undefined;
      // Marked handled while this step is awaited (a failure of the next step still rejects when it is awaited).
      next?.catch(() => undefined);
      takeTop(await pending, steps[i] as RoutingStep);
      if (next) pending = next;
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

/** One routing call: a head of Q or K (normalised into a unit buffer) against centroid heads, and what takes each top. */
interface RoutingStep {
  readonly source: HeadTensor;
  readonly head: number;
  readonly centroids: HeadTensor;
  readonly take: (centroidHead: number, c: number, tokens: Int32Array) => void;
}

/**
 * The `count` tokens most similar to each centroid of each centroid head, from the backend's in-kernel top-k of the
 * centroid-major product; `tokens` is one head, shared by every centroid head.
 */
async function centroidTop(
  ctx: EstimatorContext,
  centroids: HeadTensor,
  tokens: HeadTensor,
  count: number,
): Promise<{ k: number; indices: Int32Array }> {
  const top = await topKeys(ctx, { q: centroids, k: tokens, qOffset: 0 }, { causal: false }, count);
  ctx.cost.add(dotFlops(centroids.heads * centroids.length * tokens.length, centroids.dim), 'estimate');
  return top;
}

/** Per centroid head and centroid (in order), its chosen tokens ascending (ties went to the earlier token). */
function takeTop(top: { k: number; indices: Int32Array }, step: RoutingStep): void {
  const { heads, length } = step.centroids;
  for (let h = 0; h < heads; h++) {
    for (let c = 0; c < length; c++) {
      const row = h * length + c;
      const chosen = top.indices.subarray(row * top.k, (row + 1) * top.k).filter((j) => j >= 0);
      step.take(h, c, chosen.sort());
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
 * Spherical k-means per query head on a seeded sample of the head's unit queries and keys (its kv head's), each half
 * of the heads in one backend call per iteration: returns [heads][clusters][dim] unit centroids.
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
  // Each head's k-means is its own, so the heads run in two halves, each half's iterations one after another: while
  // the backend finds one half's nearest centroids, this thread updates the other half's (the same centroids as one
  // loop over all heads).
  const samples: HeadTensor = { data: sample, heads, length: count, dim };
  const all: HeadTensor = { data: centroids, heads, length: clusters, dim };
  const steps = (h0: number, h1: number) => lloydSteps(ctx, headsView(samples, h0, h1), headsView(all, h0, h1), params.iterations);
  const half = Math.ceil(heads / 2);
  await Promise.all(half < heads ? [steps(0, half), steps(half, heads)] : [steps(0, heads)]);
  return all;
}

/**
 * `iterations` Lloyd steps of spherical k-means, head by head of `samples` and `own` (views of some heads): each
 * sample joins its nearest centroid (the first on ties: the backend's row maximum, each head against its own
 * centroids), and each centroid with members becomes their normalised sum, in place in `own`.
 */
async function lloydSteps(ctx: EstimatorContext, samples: HeadTensor, own: HeadTensor, iterations: number): Promise<void> {
  const { heads, length: count, dim } = samples;
  const clusters = own.length;
  const sums = new Float64Array(clusters * dim);
  const counts = new Int32Array(clusters);
  for (let it = 0; it < iterations; it++) {
    const nearest = (await rowReductions(ctx, samples, own, { max: true })).max;
    if (!nearest) throw new Error('routing: the backend returned no row maxima');
    for (let h = 0; h < heads; h++) {
      sums.fill(0);
      counts.fill(0);
      for (let s = 0; s < count; s++) {
        const best = Math.max(0, nearest.indices[h * count + s] as number);
        counts[best] = (counts[best] as number) + 1;
        addRow(sums, best * dim, samples.data, (h * count + s) * dim, dim);
      }
      for (let c = 0; c < clusters; c++) {
        if (counts[c] === 0) continue;
        let norm = 0;
        for (let d = 0; d < dim; d++) norm += (sums[c * dim + d] as number) ** 2;
        const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
        const at = (h * clusters + c) * dim;
        for (let d = 0; d < dim; d++) own.data[at + d] = (sums[c * dim + d] as number) * inv;
      }
    }
    ctx.cost.add(addFlops(heads * count * dim), 'estimate');
  }
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
