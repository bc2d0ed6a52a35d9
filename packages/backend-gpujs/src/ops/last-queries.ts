import { expectInteger, type LastQueriesOptions, resolveScale, resolveScoreShape, type ScoreInput, type ScoreRows } from '@sparseland/core';
import { gridProbabilitiesKernel, gridRowLogSumExpKernel, rowScoresKernel } from '../kernels/estimator-kernels.js';
import { readFlat } from '../runtime/readback.js';
import { type GpuContext, tensorGrid } from './context.js';

/** Backend.lastQueriesAttention: scores of the last rows → row log-sum-exp → probabilities, on the device. */
export async function lastQueriesAttention(ctx: GpuContext, input: ScoreInput, options: LastQueriesOptions): Promise<ScoreRows> {
  const shape = resolveScoreShape(input);
  const count = Math.min(expectInteger(options.count, 'count', 1), shape.qLength);
  const scale = resolveScale(options.scale, shape.dim);
  const rowStart = shape.qLength - count;
  const rows = shape.heads * count;
  const { kvLength, dim } = shape;
  const constants = { dim };
  const scores = await ctx.cache.run(
    { key: `row-scores|d${dim}`, source: rowScoresKernel, constants, pipeline: true },
    [kvLength, rows],
    tensorGrid(ctx, input.q),
    tensorGrid(ctx, input.k),
    shape.qLength,
    kvLength,
    rowStart,
    count,
    shape.qOffset,
    shape.heads / shape.kvHeads,
    (options.causal ?? true) ? 1 : 0,
    scale,
  );
  const lse = await ctx.cache.run(
    { key: `row-lse|d${dim}`, source: gridRowLogSumExpKernel, constants, pipeline: true },
    [rows],
    scores,
    kvLength,
  );
  const probabilities = await ctx.cache.run(
    { key: `row-probabilities|d${dim}`, source: gridProbabilitiesKernel, constants, pipeline: false },
    [kvLength, rows],
    scores,
    lse,
  );
  const data = await readFlat(probabilities, rows * kvLength);
  return { kind: 'rows', data, heads: shape.heads, rowStart, rows: count, kvLength };
}
