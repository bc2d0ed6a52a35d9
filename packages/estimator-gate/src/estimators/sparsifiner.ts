import { createHeadTensor, defineEstimator } from '@sparseland/core';
import { createRng, type EstimatorContext, type EstimatorInput, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { blockGrid } from '../block-geometry.js';
import { expectGateFits, type GateWeights, tensorOf } from '../gate-weights.js';
import { matmul, uniformInit } from '../models/gate-model.js';
import { sparsifinerNames } from '../models/sparsifiner-model.js';
import { PAPERS } from '../papers.js';
import { selectBlocks, selectionParams } from '../selection.js';
import { loadGateWeights } from '../weights-io.js';
import { weightsParam } from './weights-param.js';

/** Scores held per backend call while rows are streamed (4M floats = 16 MB). */
const ROWS_CHUNK_SCORES = 1 << 22;

/**
 * Sparsifiner's connectivity predictor: low-rank projections of Q and K (rank = the weights' hidden size, 16 by
 * default) give approximate attention rows on the backend; each row's softmax mass per key block, averaged over the
 * query block, is the predicted block map, selected like SeerAttention's gate (threshold / ratio / coverage). The
 * paper binarises per token; a block kernel needs blocks, so the rows of a query block vote (an interpretation).
 * Without weights the projection is an untrained seeded random sketch of rank `rank` (Johnson–Lindenstrauss).
 */
export const sparsifiner = defineEstimator({
  name: 'sparsifiner',
  summary: 'Sparsifiner: a low-rank connectivity predictor approximates attention rows; their block masses pick blocks.',
  paper: PAPERS.sparsifiner,
  params: z
    .object({
      weights: weightsParam,
      rank: intParam(1, 16, 'rank of the untrained projections when no weights are given (trained weights carry their own)'),
      ...selectionParams,
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const weights = params.weights ? await loadGateWeights(params.weights) : undefined;
    const { probs, grid } = await sparsifinerBlockMap(input, ctx, weights, params.rank);
    return { blocks: selectBlocks(probs, input.shape, grid, params) };
  },
});

export async function sparsifinerBlockMap(input: EstimatorInput, ctx: EstimatorContext, weights: GateWeights | undefined, rank: number) {
  const { shape } = input;
  const { heads, kvHeads, qLength, kvLength, dim, qOffset } = shape;
  const grid = blockGrid(shape, ctx.blockQ, ctx.blockK, input.causal);
  const group = heads / kvHeads;
  let wq: Float32Array;
  let wk: Float32Array;
  let r: number;
  let scoreScale: number;
  if (weights) {
    expectGateFits(weights.config, shape, ctx.layer, 'sparsifiner');
    r = weights.config.hidden;
    const names = sparsifinerNames(ctx.layer);
    wq = tensorOf(weights, names.q, heads * dim * r);
    wk = tensorOf(weights, names.k, kvHeads * dim * r);
    scoreScale = 1 / Math.sqrt(r);
  } else {
    // Untrained: a seeded Johnson–Lindenstrauss sketch (entries of variance 1/r, so q̃·k̃ estimates q·k) shared by
    // every head, scaled as the exact logits.
    r = Math.min(rank, 4096);
    const rng = createRng(ctx.seed);
    const sketch = uniformInit(dim * r, r / 3, rng.next);
    wq = new Float32Array(heads * dim * r);
    wk = new Float32Array(kvHeads * dim * r);
    for (let h = 0; h < heads; h++) wq.set(sketch, h * dim * r);
    for (let g = 0; g < kvHeads; g++) wk.set(sketch, g * dim * r);
    scoreScale = 1 / Math.sqrt(dim);
  }
  const probs = new Float32Array(heads * grid.qBlocks * grid.kBlocks);
  const kr: Float32Array[] = [];
  for (let g = 0; g < kvHeads; g++) kr.push(Float32Array.from(matmul(input.k.data, g * kvLength * dim, kvLength, dim, wk, g * dim * r, r)));
  ctx.cost.add(2 * r * dim * (heads * qLength + kvHeads * kvLength), 'low-rank projection');
  const rowsPerCall = Math.max(1, Math.min(qLength, Math.floor(ROWS_CHUNK_SCORES / kvLength)));
  const mass = new Float64Array(grid.kBlocks);
  for (let h = 0; h < heads; h++) {
    const qr = Float32Array.from(matmul(input.q.data, h * qLength * dim, qLength, dim, wq, h * dim * r, r));
    const keys = createHeadTensor(1, kvLength, r, kr[Math.floor(h / group)]);
    for (let r0 = 0; r0 < qLength; r0 += rowsPerCall) {
      const rows = Math.min(rowsPerCall, qLength - r0);
      const scores = await ctx.backend.pooledScores(
        { q: createHeadTensor(1, rows, r, qr.subarray(r0 * r, (r0 + rows) * r)), k: keys, qOffset: qOffset + r0 },
        { blockQ: 1, blockK: 1, scale: scoreScale, causal: input.causal },
      );
      ctx.cost.add(2 * r * rows * kvLength, 'low-rank scores');
      for (let i = 0; i < rows; i++) {
        const row = scores.data.subarray(i * kvLength, (i + 1) * kvLength);
        let max = -Infinity;
        for (let j = 0; j < kvLength; j++) max = Math.max(max, row[j] as number);
        if (max === -Infinity) continue;
        let sum = 0;
        mass.fill(0);
        for (let j = 0; j < kvLength; j++) {
          const e = Math.exp((row[j] as number) - max);
          sum += e;
          const at = Math.floor(j / ctx.blockK);
          mass[at] = (mass[at] as number) + e;
        }
        const qb = Math.floor((r0 + i) / ctx.blockQ);
        const base = (h * grid.qBlocks + qb) * grid.kBlocks;
        for (let kb = 0; kb < grid.kBlocks; kb++) probs[base + kb] = (probs[base + kb] as number) + (mass[kb] as number) / sum;
      }
    }
    // The rows' masses, averaged per query block, are a distribution over its visible blocks.
    for (let qb = 0; qb < grid.qBlocks; qb++) {
      const base = (h * grid.qBlocks + qb) * grid.kBlocks;
      const rowsInBlock = Math.min(qLength, (qb + 1) * ctx.blockQ) - qb * ctx.blockQ;
      for (let kb = 0; kb < grid.kBlocks; kb++) {
        probs[base + kb] = kb <= (grid.lastVisible[qb] as number) ? (probs[base + kb] as number) / rowsInBlock : Number.NaN;
      }
    }
  }
  return { probs, grid };
}
