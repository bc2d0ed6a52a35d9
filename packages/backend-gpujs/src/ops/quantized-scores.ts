import {
  type BlockScores,
  describeValue,
  expectInteger,
  type QuantizedScoresOptions,
  resolveScale,
  resolveScoreShape,
  type ScoreInput,
  type ScoreRows,
  SparselandError,
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
  const shape = resolveScoreShape(input);
  if (options.bits !== 8 && options.bits !== 4) {
    throw new SparselandError('E_PARAMS', `quantizedScores bits must be 8 or 4, got ${describeValue(options.bits)}`);
  }
  const { heads, kvHeads, qLength, kvLength, dim } = shape;
  const qmax = 2 ** (options.bits - 1) - 1;
  const scale = resolveScale(options.scale, dim);
  const pool = options.pool;
  const rowStart = pool ? 0 : (options.rows?.start ?? 0);
  const rows = pool ? qLength : (options.rows?.count ?? qLength - rowStart);
  expectInteger(rowStart, 'rows.start', 0, qLength - 1);
  expectInteger(rows, 'rows.count', 1, qLength - rowStart);
  const blockQ = pool ? expectInteger(pool.blockQ, 'pool.blockQ', 1) : 0;
  const blockK = pool ? expectInteger(pool.blockK, 'pool.blockK', 1) : 0;
  const constants = { dim };
  const k = tensorGrid(ctx, input.k);
  const q = tensorGrid(ctx, input.q);

  const kMean = await ctx.cache.run(
    { key: `channel-mean|d${dim}`, source: channelMeanKernel, constants, pipeline: true },
    [dim, kvHeads],
    k,
    kvLength,
    (options.smoothK ?? true) ? 1 : 0,
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
  const causal = (options.causal ?? true) ? 1 : 0;
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
  const qBlocks = Math.ceil(qLength / blockQ);
  const kBlocks = Math.ceil(kvLength / blockK);
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
