import { ColumnMask, defineEstimator, SparselandError } from '@sparseland/core';
import { buildBlockMask, intParam, numberParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { blockGrid } from '../block-geometry.js';
import { expectGateFits, type GateWeights } from '../gate-weights.js';
import { dmaModel, dmaScores } from '../models/dma-model.js';
import { PAPERS } from '../papers.js';
import { loadGateWeights } from '../weights-io.js';
import { weightsParam } from './weights-param.js';

/**
 * Dynamic Mask Attention: per head, every key gets a mask score from its values (z = A·softplus(dt_proj(v))), and
 * the head keeps its `keepWindowSize` best keys; past that window, `dynamicMaskRatio` of the rest are masked (the
 * reference module's prepare_dynamic_mask, defaults 2048 and 1). The kept keys are columns shared by every query
 * that may see them; the query block's own key blocks are always kept (this library's addition: a causal row
 * must see something). Without weights the scores come from the module's initial state (dt_proj seeded, A = 0): all
 * equal, so ties go to the most recent keys and the head keeps the last `keepWindowSize` keys of the sequence. DMA also adds the scores to the logits; an estimator
 * returns only the mask, so that bias is not applied.
 */
export const dma = defineEstimator({
  name: 'dma',
  summary: 'Dynamic Mask Attention: learned per-key scores from the values keep each head’s top keys.',
  paper: PAPERS.dma,
  params: z
    .object({
      weights: weightsParam,
      keepWindowSize: intParam(1, 2048, 'keys a head always keeps, the best by mask score (DMA keep_window_size 2048)'),
      dynamicMaskRatio: numberParam(0, 1, 1, 'fraction of the keys beyond the window that are masked (DMA dynamic_mask_ratio)'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape } = input;
    const { heads, kvHeads, kvLength, dim, qLength, qOffset } = shape;
    const v = input.v;
    if (!v) throw new SparselandError('E_SHAPE', 'dma computes its mask from the values: the call must pass input.v');
    let weights: GateWeights;
    let layer = ctx.layer;
    if (params.weights) {
      weights = await loadGateWeights(params.weights);
      expectGateFits(weights.config, shape, ctx.layer, 'dma');
    } else {
      // The module's initial state for this shape: dt_proj seeded, A = 0, so every key scores 0.
      weights = dmaModel.init({ kind: 'dma', layers: 1, heads, kvHeads, dim, hidden: 1, blockSize: ctx.blockK }, ctx.seed);
      layer = 0;
    }
    const z = dmaScores(weights, layer, v.data, kvLength).z;
    ctx.cost.add(2 * kvLength * kvHeads * dim * heads, 'mask scores');
    const masked = kvLength > params.keepWindowSize ? Math.floor((kvLength - params.keepWindowSize) * params.dynamicMaskRatio) : 0;
    const keep = kvLength - masked;
    const kept: Uint8Array[] = [];
    const order = new Int32Array(kvLength);
    for (let h = 0; h < heads; h++) {
      for (let j = 0; j < kvLength; j++) order[j] = j;
      order.sort((a, b) => (z[h * kvLength + b] as number) - (z[h * kvLength + a] as number) || b - a);
      const row = new Uint8Array(kvLength);
      for (let t = 0; t < keep; t++) row[order[t] as number] = 1;
      kept.push(row);
    }
    const grid = blockGrid(shape, ctx.blockQ, ctx.blockK, input.causal);
    const ownFirst = (qb: number) => Math.floor((qOffset + qb * ctx.blockQ) / ctx.blockK);
    const blocks = buildBlockMask(shape, ctx, { trusted: true }, (_h, qb, full) => {
      const last = grid.lastVisible[qb] as number;
      for (let kb = Math.min(ownFirst(qb), last); kb <= last; kb++) full.push(kb);
    });
    const columns = ColumnMask.build(shape, ctx.blockQ, { trusted: true }, (h, qb, cols) => {
      const lastPos = input.causal ? Math.min(kvLength - 1, qOffset + Math.min(qLength, (qb + 1) * ctx.blockQ) - 1) : kvLength - 1;
      const ownStart = Math.min(ownFirst(qb), grid.lastVisible[qb] as number) * ctx.blockK;
      const row = kept[h] as Uint8Array;
      for (let j = 0; j < Math.min(ownStart, lastPos + 1); j++) if (row[j]) cols.push(j);
    });
    return { blocks, columns };
  },
});
