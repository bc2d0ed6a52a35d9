import {
  type BlockScores,
  type QuantizedScoresOptions,
  resolveQuantizedScoresCall,
  type ScoreInput,
  type ScoreRows,
} from '@sparseland/core';
import {
  channelMeanKernel,
  quantizedBlockMaxKernel,
  quantizedDotKernel,
  quantizeRowsKernel,
  quantizeScaleKernel,
} from '../kernels/estimator-kernels.js';
import { blocksPerRow } from '../kernels/grid-layout.js';
import { maskedToInfinity, readFlat } from '../runtime/readback.js';
import { type GpuContext, tensorGrid } from './context.js';

/**
 * Backend.quantizedScores on the device: K's channel means (SALE smoothing), per-row symmetric quantisation of K and
 * of the requested Q rows with their scales, then the integer dot products, or with `pool` their block max computed
 * tile by tile (the `[qLength][kvLength]` scores never exist).
 */
export async function quantizedScores(
  ctx: GpuContext,
  input: ScoreInput,
  options: QuantizedScoresOptions,
): Promise<ScoreRows | BlockScores> {
  const call = resolveQuantizedScoresCall(input, options);
  const { shape, qmax, scale, rowStart, rows, pool } = call;
  const { heads, kvHeads, qLength, kvLength, dim } = shape;
  const constants = { dim };
  const k = tensorGrid(ctx, input.k);
  const q = tensorGrid(ctx, input.q);

  const kMean = await ctx.cache.run(
    { key: `channel-mean|d${dim}`, source: channelMeanKernel, constants, pipeline: true },
    [dim, kvHeads],
    k,
    kvLength,
    call.smoothK ? 1 : 0,
  );
  const kPerLine = blocksPerRow(kvHeads * kvLength, 1);
  const kInt = await ctx.cache.run(
    { key: `quantize-k|d${dim}`, source: quantizeRowsKernel, constants, pipeline: true },
    [kPerLine * dim, Math.ceil((kvHeads * kvLength) / kPerLine)],
    k,
    kMean,
    kvLength,
    0,
    kvLength,
    kPerLine,
    qmax,
  );
  const kScale = await ctx.cache.run(
    { key: `quantize-k-scale|d${dim}`, source: quantizeScaleKernel, constants, pipeline: true },
    [kvHeads * kvLength],
    k,
    kMean,
    kvLength,
    0,
    kvLength,
    qmax,
  );
  const noMean = ctx.grid(new Float32Array(heads * dim), dim, heads);
  const qPerLine = blocksPerRow(heads * rows, 1);
  const qInt = await ctx.cache.run(
    { key: `quantize-q|d${dim}`, source: quantizeRowsKernel, constants, pipeline: true },
    [qPerLine * dim, Math.ceil((heads * rows) / qPerLine)],
    q,
    noMean,
    qLength,
    rowStart,
    rows,
    qPerLine,
    qmax,
  );
  const qScale = await ctx.cache.run(
    { key: `quantize-q-scale|d${dim}`, source: quantizeScaleKernel, constants, pipeline: true },
    [heads * rows],
    q,
    noMean,
    qLength,
    rowStart,
    rows,
    qmax,
  );
  const causal = call.causal ? 1 : 0;
  if (!pool) {
    const scores = await ctx.cache.run(
      { key: `quantized-dot|d${dim}`, source: quantizedDotKernel, constants, pipeline: false },
      [kvLength, heads * rows],
      qInt,
      qScale,
      kInt,
      kScale,
      qPerLine,
      kPerLine,
      kvLength,
      rowStart,
      rows,
      shape.qOffset,
      heads / kvHeads,
      causal,
      scale,
    );
    const data = maskedToInfinity(await readFlat(scores, heads * rows * kvLength));
    return { kind: 'rows', data, heads, rowStart, rows, kvLength };
  }
  const { blockQ, blockK, qBlocks, kBlocks } = pool;
  const pooled = await ctx.cache.run(
    { key: `quantized-block-max|d${dim}`, source: quantizedBlockMaxKernel, constants, pipeline: false },
    [kBlocks, heads * qBlocks],
    qInt,
    qScale,
    kInt,
    kScale,
    qPerLine,
    kPerLine,
    qLength,
    kvLength,
    qBlocks,
    blockQ,
    blockK,
    shape.qOffset,
    heads / kvHeads,
    causal,
    scale,
  );
  const data = maskedToInfinity(await readFlat(pooled, heads * qBlocks * kBlocks));
  return { kind: 'blocks', data, heads, qBlocks, kBlocks, blockQ, blockK };
}
