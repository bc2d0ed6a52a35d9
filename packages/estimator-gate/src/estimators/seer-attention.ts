import { createHeadTensor, defineEstimator, SparselandError } from '@sparseland/core';
import type { EstimatorContext, EstimatorInput } from '@sparseland/core/kit';
import { z } from 'zod';
import { blockGrid } from '../block-geometry.js';
import { expectGateFits, type GateWeights } from '../gate-weights.js';
import { seerProject } from '../models/seer-gate.js';
import { PAPERS } from '../papers.js';
import { poolBlocks } from '../pooling.js';
import { selectBlocks, selectionParams, softmaxVisible } from '../selection.js';
import { loadGateWeights } from '../weights-io.js';
import { weightsParam } from './weights-param.js';

/**
 * SeerAttention's AttnGate (Qavg_Kmaxminavg, hidden 128, RoPE at block positions, block softmax) with weights
 * trained by `trainGate` / `sparseland train-gate`: the gate's block probabilities become full blocks by threshold
 * (default 5e-4, the README example), top ratio or coverage; the last query block is dense (seerattn_last_block_dense).
 * The gate's products run on the backend (pooledScores over 1×1 blocks of the projected pools). Without weights the
 * gate is untrained: identity projections of the avg-pooled Q and K, no RoPE (pooled q̄·k̄/√d, a training-free gate).
 */
export const seerAttention = defineEstimator({
  name: 'seer-attention',
  summary: 'SeerAttention AttnGate: a learned gate over pooled Q and K blocks predicts the block attention map.',
  paper: PAPERS.seerAttention,
  params: z.object({ weights: weightsParam, ...selectionParams }).strict(),
  build: (params) => async (input, ctx) => {
    const weights = params.weights ? await loadGateWeights(params.weights) : undefined;
    const { probs, grid } = await seerBlockProbabilities(input, ctx, weights);
    return { blocks: selectBlocks(probs, input.shape, grid, params) };
  },
});

/** The gate's row-normalised block probabilities [heads][qBlocks][kBlocks] (NaN where a block is not visible). */
export async function seerBlockProbabilities(input: EstimatorInput, ctx: EstimatorContext, weights: GateWeights | undefined) {
  const { shape } = input;
  const { heads, kvHeads, qLength, kvLength, dim } = shape;
  const grid = blockGrid(shape, ctx.blockQ, ctx.blockK, input.causal);
  let q: Float32Array;
  let k: Float32Array;
  let width: number;
  if (weights) {
    expectGateFits(weights.config, shape, ctx.layer, 'seer-attention');
    if (ctx.blockQ !== weights.config.blockSize || ctx.blockK !== weights.config.blockSize) {
      throw new SparselandError(
        'E_PARAMS',
        `seer-attention: the gate was trained on ${weights.config.blockSize}×${weights.config.blockSize} blocks, the recipe asks for ${ctx.blockQ}×${ctx.blockK}`,
      );
    }
    const qAvg = poolBlocks(input.q, ctx.blockQ, ['avg']);
    const kPool = poolBlocks(input.k, ctx.blockK, ['max', 'min', 'avg']);
    width = weights.config.hidden;
    const projected = seerProject(weights, ctx.layer, shape, grid, qAvg, kPool);
    q = Float32Array.from(projected.q);
    k = Float32Array.from(projected.k);
    ctx.cost.add(heads * qLength * dim + 3 * kvHeads * kvLength * dim, 'pool');
    ctx.cost.add(2 * width * (heads * grid.qBlocks * dim + kvHeads * grid.kBlocks * 3 * dim), 'gate projection');
  } else {
    q = poolBlocks(input.q, ctx.blockQ, ['avg']);
    k = poolBlocks(input.k, ctx.blockK, ['avg']);
    width = dim;
    ctx.cost.add(heads * qLength * dim + kvHeads * kvLength * dim, 'pool');
  }
  const scores = await ctx.backend.pooledScores(
    { q: createHeadTensor(heads, grid.qBlocks, width, q), k: createHeadTensor(kvHeads, grid.kBlocks, width, k), qOffset: 0 },
    { blockQ: 1, blockK: 1, scale: 1 / Math.sqrt(width), causal: false },
  );
  ctx.cost.add(2 * width * heads * grid.qBlocks * grid.kBlocks, 'gate scores');
  const probs = scores.data;
  softmaxVisible(probs, heads, grid);
  return { probs, grid };
}
