import type { HeadTensor } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { scoreMatrix } from '../common/backend-ops.js';
import { defineEstimator } from '../common/define.js';
import { addFlops } from '../common/flops.js';
import { buildSparseMask } from '../common/mask-builder.js';
import { topIndices } from '../common/select.js';
import { PAPERS } from '../papers.js';

/**
 * BiFormer's bi-level routing on a sequence: positions are cut into `regions` equal regions (BiFormer's 7×7 = 49
 * windows, laid out in 1-D), each region is summarised by its mean query and mean key, the region affinity
 * q̄·k̄ routes every query region to its `topK` key regions (earlier ones or its own when causal, the own region
 * always among them), and a query block
 * attends to the regions its rows are routed to. Defaults: 49 regions, top-4 (BiFormer's second-stage top-k; the
 * stages use 1, 4, 16, all).
 */
export const biformer = defineEstimator({
  name: 'biformer',
  summary: 'BiFormer bi-level routing: region-mean affinity routes each query region to its top-k key regions.',
  paper: PAPERS.biformer,
  params: z
    .object({
      regions: intParam(1, 49, 'regions the sequence is cut into (BiFormer n_win² = 7² = 49)'),
      topK: intParam(1, 4, 'key regions each query region is routed to (BiFormer stage top-k 1, 4, 16, all)'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { heads, kvHeads, kvLength, qLength, qOffset, dim } = shape;
    const size = Math.ceil(kvLength / Math.min(params.regions, kvLength));
    const regions = Math.ceil(kvLength / size);
    const regionOf = (pos: number) => Math.min(regions - 1, Math.floor(pos / size));
    const qRegions = regionOf(Math.min(qOffset + qLength - 1, kvLength - 1)) - regionOf(Math.min(qOffset, kvLength - 1)) + 1;
    const firstQRegion = regionOf(Math.min(qOffset, kvLength - 1));
    const qBar = regionMeans(input.q, (i) => regionOf(Math.min(qOffset + i, kvLength - 1)) - firstQRegion, qRegions);
    const kBar = regionMeans(input.k, regionOf, regions);
    ctx.cost.add(addFlops((heads * qLength + kvHeads * kvLength) * dim), 'estimate');
    const affinity = await scoreMatrix(ctx, qBar, kBar, 1 / Math.sqrt(dim));
    const routed: Uint8Array[] = [];
    for (let h = 0; h < heads; h++) {
      const out = new Uint8Array(qRegions * regions);
      const row = new Float64Array(regions);
      for (let r = 0; r < qRegions; r++) {
        const region = firstQRegion + r;
        for (let c = 0; c < regions; c++)
          row[c] = causal && c > region ? -Infinity : (affinity[(h * qRegions + r) * regions + c] as number);
        // Causal: the own region holds the rows' own keys, so it is always routed (and counts toward topK), as
        // MoBA's current chunk is; otherwise early rows of a region could be routed only to keys after them.
        if (causal) row[region] = Infinity;
        for (const c of topIndices(row, 0, regions, params.topK)) out[r * regions + c] = 1;
      }
      routed.push(out);
    }
    return buildSparseMask(shape, ctx, { causal }, (h, qb, row) => {
      const out = routed[h] as Uint8Array;
      const r0 = regionOf(Math.min(qOffset + qb * ctx.blockQ, kvLength - 1)) - firstQRegion;
      const r1 = regionOf(Math.min(qOffset + Math.min(qLength, (qb + 1) * ctx.blockQ) - 1, kvLength - 1)) - firstQRegion;
      for (let r = r0; r <= r1; r++) {
        for (let c = 0; c < regions; c++) if (out[r * regions + c]) row.addKeys(c * size, (c + 1) * size);
      }
    });
  },
});

/** Mean of the rows of every head that fall in each region (`regionOf(row)`), as a HeadTensor [heads][regions][dim]. */
function regionMeans(t: HeadTensor, regionOf: (row: number) => number, regions: number): HeadTensor {
  const { heads, length, dim } = t;
  const data = new Float32Array(heads * regions * dim);
  const sums = new Float64Array(regions * dim);
  const counts = new Int32Array(regions);
  for (let h = 0; h < heads; h++) {
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < length; i++) {
      const r = regionOf(i);
      counts[r] = (counts[r] as number) + 1;
      const base = (h * length + i) * dim;
      for (let c = 0; c < dim; c++) sums[r * dim + c] = (sums[r * dim + c] as number) + (t.data[base + c] as number);
    }
    for (let r = 0; r < regions; r++) {
      const n = Math.max(1, counts[r] as number);
      for (let c = 0; c < dim; c++) data[(h * regions + r) * dim + c] = (sums[r * dim + c] as number) / n;
    }
  }
  return { data, heads, length: regions, dim };
}
