import {
  type BlockScores,
  type QuantizedScoresOptions,
  resolveQuantizedScoresCall,
  type ScoreInput,
  type ScoreRows,
} from '@sparseland/core/kit';
import {
  channelMeanKernel,
  quantizedBlockMaxBiasedKernel,
  quantizedBlockMaxKernel,
  quantizedDotKernel,
  quantizeGroupedRowsKernel,
  quantizeGroupedScaleKernel,
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
  const { shape, qmax, scale, rowStart, rows, pool, rowBias } = call;
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
  const {
    ints: kInt,
    scales: kScale,
    perLine: kPerLine,
  } = await quantizeRows(ctx, 'k', k, kMean, kvHeads, kvLength, 0, kvLength, dim, qmax, call.kGroup);
  const noMean = ctx.grid(new Float32Array(heads * dim), dim, heads);
  const {
    ints: qInt,
    scales: qScale,
    perLine: qPerLine,
  } = await quantizeRows(ctx, 'q', q, noMean, heads, qLength, rowStart, rows, dim, qmax, call.qGroup);
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
    if (rowBias) {
      for (let r = 0; r < heads * rows; r++) {
        const bias = rowBias[r] as number;
        for (let j = r * kvLength; j < (r + 1) * kvLength; j++) if (data[j] !== -Infinity) data[j] = (data[j] as number) - bias;
      }
    }
    return { kind: 'rows', data, heads, rowStart, rows, kvLength };
  }
  const { blockQ, blockK, qBlocks, kBlocks } = pool;
  const blockMax = rowBias
    ? { key: `quantized-block-max-biased|d${dim}`, source: quantizedBlockMaxBiasedKernel, constants, pipeline: false }
    : { key: `quantized-block-max|d${dim}`, source: quantizedBlockMaxKernel, constants, pipeline: false };
  const pooled = await ctx.cache.run(
    blockMax,
    [kBlocks, heads * qBlocks],
    qInt,
    qScale,
    kInt,
    kScale,
    ...(rowBias ? [rowBias] : []),
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

/**
 * Per-row symmetric quantisation of rows [start, start + rows) of every head of `tensor` (`length` rows per head),
 * after subtracting the per-head channel `mean`: the integer rows, `perLine` rows to a grid line, and their scales.
 */
async function quantizeRows(
  ctx: GpuContext,
  side: 'q' | 'k',
  tensor: unknown,
  mean: unknown,
  heads: number,
  length: number,
  start: number,
  rows: number,
  dim: number,
  qmax: number,
  group: number,
): Promise<{ ints: unknown; scales: unknown; perLine: number }> {
  const constants = { dim };
  const perLine = blocksPerRow(heads * rows, 1);
  // Per-token scales keep the original kernels; groups of rows use the grouped twins (one extra argument).
  const grouped = group > 1;
  const ints = await ctx.cache.run(
    grouped
      ? { key: `quantize-grouped-${side}|d${dim}`, source: quantizeGroupedRowsKernel, constants, pipeline: true }
      : { key: `quantize-${side}|d${dim}`, source: quantizeRowsKernel, constants, pipeline: true },
    [perLine * dim, Math.ceil((heads * rows) / perLine)],
    tensor,
    mean,
    length,
    start,
    rows,
    perLine,
    qmax,
    ...(grouped ? [group] : []),
  );
  const scales = await ctx.cache.run(
    grouped
      ? { key: `quantize-grouped-${side}-scale|d${dim}`, source: quantizeGroupedScaleKernel, constants, pipeline: true }
      : { key: `quantize-${side}-scale|d${dim}`, source: quantizeScaleKernel, constants, pipeline: true },
    [heads * rows],
    tensor,
    mean,
    length,
    start,
    rows,
    qmax,
    ...(grouped ? [group] : []),
  );
  return { ints, scales, perLine };
}
