import { defineEstimator, type HeadTensor } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { eachScoreRows, scoreMatrix, topKeys } from '../common/backend-ops.js';
import { addFlops, dotFlops } from '../common/flops.js';
import { QueryBlocks } from '../common/geometry.js';
import { mixSeed, randomDirections } from '../common/lsh.js';
import { buildSparseMask } from '../common/mask-builder.js';
import { PAPERS } from '../papers.js';
import { withRettention } from '../rettention/with-rettention.js';

/**
 * SEA-style estimated attention, training-free. A Performer (FAVOR+ positive random features, φ(q)·φ(k) ≈
 * exp(q·k/√d)) estimates each query's attention over `width` key bins (SEA's compressed map of width 128); each query
 * keeps its `topK` bins (SEA's k = 7 in compressed space) and its own bin, and a query block keeps its rows' bins.
 * SEA trains a CNN decoder on top of the Performer estimate by distillation; without training, the kernel estimate
 * itself is the compressed map. Features: `features` random features (0 = the head dim, Performer nb_factor 1).
 */
const method = defineEstimator({
  name: 'sea',
  summary: 'SEA-style: a Performer kernel estimate of each query’s attention over compressed key bins, top-k bins per row.',
  paper: PAPERS.sea,
  budget: { param: 'topK', denser: 'higher' },
  params: z
    .object({
      width: intParam(1, 128, 'key bins of the compressed attention map (SEA attention_predictor_length 128)'),
      topK: intParam(1, 7, 'bins each query keeps (SEA top-k 7 in compressed space)'),
      features: intParam(0, 0, 'random features of the kernel estimate (0 = head dim: Performer nb_factor 1)'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { heads, kvHeads, kvLength, qLength, qOffset, dim } = shape;
    const m = params.features || dim;
    const bins = Math.min(params.width, kvLength);
    const binSize = Math.ceil(kvLength / bins);
    const omega = randomDirections(m, dim, mixSeed(ctx.seed, ctx.layer, 5));
    const rescale = dim ** -0.25;
    // Positive features exp(ω·x − |x|²/2); a per-row constant for queries and one per kv head for keys cancel out.
    // Query features are made from each call's projections as they arrive (the projections of all rows are never
    // held); key features overwrite their projections.
    const qFeat = new Float32Array(heads * qLength * m);
    await eachScoreRows(ctx, input.q, omega, rescale, (r0, rows, proj) => {
      for (let h = 0; h < heads; h++) {
        const first = h * qLength + r0;
        positiveFeatures(
          proj.subarray(h * rows * m, (h + 1) * rows * m),
          input.q.data.subarray(first * dim, (first + rows) * dim),
          rows,
          m,
          dim,
          rescale,
          true,
          rows,
          qFeat.subarray(first * m, (first + rows) * m),
        );
      }
    });
    const kProj = await scoreMatrix(ctx, input.k, omega, rescale);
    const kFeat = positiveFeatures(kProj, input.k.data, kvHeads * kvLength, m, dim, rescale, false, kvLength, kProj);
    const binFeat = new Float32Array(kvHeads * bins * m);
    for (let g = 0; g < kvHeads; g++) {
      for (let j = 0; j < kvLength; j++) {
        const b = Math.floor(j / binSize);
        for (let f = 0; f < m; f++)
          binFeat[(g * bins + b) * m + f] = (binFeat[(g * bins + b) * m + f] as number) + (kFeat[(g * kvLength + j) * m + f] as number);
      }
    }
    ctx.cost.add(addFlops(kvHeads * kvLength * m), 'estimate');
    const blocks = new QueryBlocks(shape, ctx.blockQ, causal);
    const chosen = new Uint8Array(heads * blocks.count * bins);
    // Each query's top bins among those it sees (bins starting at or before its last key), chosen by the backend:
    // rows that see the same number of bins form one call over those bins.
    const queries: HeadTensor = { data: qFeat, heads, length: qLength, dim: m };
    const binKeys: HeadTensor = { data: binFeat, heads: kvHeads, length: bins, dim: m };
    const visibleBins = (i: number) => Math.min(bins, Math.floor(blocks.lastKeyOfRow(i) / binSize) + 1);
    for (let r0 = 0; r0 < qLength; ) {
      const visible = visibleBins(r0);
      let r1 = r0 + 1;
      while (r1 < qLength && visibleBins(r1) === visible) r1++;
      const top = await topKeys(
        ctx,
        { q: queries, k: binKeys, qOffset: 0 },
        { causal: false, rows: { start: r0, count: r1 - r0 }, keys: { start: 0, count: visible } },
        params.topK,
      );
      for (let h = 0; h < heads; h++) {
        for (let i = r0; i < r1; i++) {
          const base = (h * blocks.count + Math.floor(i / ctx.blockQ)) * bins;
          chosen[base + Math.floor(Math.min(qOffset + i, kvLength - 1) / binSize)] = 1;
          const at = (h * (r1 - r0) + (i - r0)) * top.k;
          for (let t = at; t < at + top.k; t++) if ((top.indices[t] as number) >= 0) chosen[base + (top.indices[t] as number)] = 1;
        }
      }
      r0 = r1;
    }
    ctx.cost.add(dotFlops(heads * qLength * bins, m), 'estimate');
    return buildSparseMask(shape, ctx, { causal }, (h, qb, sink) => {
      const base = (h * blocks.count + qb) * bins;
      for (let b = 0; b < bins; b++) if (chosen[base + b]) sink.addKeys(b * binSize, (b + 1) * binSize);
    });
  },
});

export const sea = withRettention(method);

/**
 * Features below this are stored as 0. Features are at most 1/√m after the max subtraction; products of two values
 * under ~1e-19 would be subnormal floats, which the kernels' multiply-adds process tens of times slower. A flushed
 * feature is below 1e-17 of its row's largest, far under float32 resolution of the estimate's large terms: it can
 * only change which of several bins whose estimate is all but zero a query keeps.
 */
export const FEATURE_FLOOR = 1e-18;

/**
 * FAVOR+ features exp(ω·x' − |x'|²/2) / √m of rows x' = x·rescale, from their projections ω·x'. Queries subtract
 * their row max (softmax-invariant per row); keys subtract one max per kv head (`perHead` rows), invariant too.
 * Values under FEATURE_FLOOR become 0. Written to `out` (a new array by default; `proj` itself works: each value is
 * read before it is overwritten).
 */
export function positiveFeatures(
  proj: Float32Array,
  rows: Float32Array,
  count: number,
  m: number,
  dim: number,
  rescale: number,
  perRow: boolean,
  perHead = count,
  out: Float32Array = new Float32Array(count * m),
): Float32Array {
  const half = new Float64Array(count);
  for (let r = 0; r < count; r++) {
    let norm = 0;
    for (let c = 0; c < dim; c++) norm += ((rows[r * dim + c] as number) * rescale) ** 2;
    half[r] = norm / 2;
  }
  const root = Math.sqrt(m);
  for (let r0 = 0; r0 < count; r0 += perRow ? 1 : perHead) {
    const r1 = perRow ? r0 + 1 : Math.min(count, r0 + perHead);
    let max = -Infinity;
    for (let r = r0; r < r1; r++) {
      const shift = half[r] as number;
      for (let f = 0; f < m; f++) max = Math.max(max, (proj[r * m + f] as number) - shift);
    }
    for (let r = r0; r < r1; r++) {
      const shift = (half[r] as number) + max;
      for (let f = 0; f < m; f++) {
        const x = Math.exp((proj[r * m + f] as number) - shift) / root;
        out[r * m + f] = x < FEATURE_FLOOR ? 0 : x;
      }
    }
  }
  return out;
}
