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
  blockMaxKernel,
  channelMeanKernel,
  quantizedDotKernel,
  quantizeRowsKernel,
  quantizeScaleKernel,
} from '../kernels/estimator-kernels.js';
import { maskedToInfinity, readFlat } from '../runtime/readback.js';
import { type GpuContext, tensorGrid } from './context.js';

/**
 * Backend.quantizedScores on the device: K's channel means (SALE smoothing), per-row symmetric quantisation of K and
 * of the requested Q rows with their scales, the integer dot products, and optionally the block max.
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
  const kInt = await ctx.cache.run(
    { key: `quantize-k|d${dim}`, source: quantizeRowsKernel, constants, pipeline: true },
    [dim, kvHeads * kvLength],
    k,
    kMean,
    kvLength,
    0,
    kvLength,
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
  const qInt = await ctx.cache.run(
    { key: `quantize-q|d${dim}`, source: quantizeRowsKernel, constants, pipeline: true },
    [dim, heads * rows],
    q,
    noMean,
    qLength,
    rowStart,
    rows,
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
  const scores = await ctx.cache.run(
    { key: `quantized-dot|d${dim}${pool ? '|pooled' : ''}`, source: quantizedDotKernel, constants, pipeline: pool !== undefined },
    [kvLength, heads * rows],
    qInt,
    qScale,
    kInt,
    kScale,
    kvLength,
    rowStart,
    rows,
    shape.qOffset,
    heads / kvHeads,
    (options.causal ?? true) ? 1 : 0,
    scale,
  );
  if (!pool) {
    const data = maskedToInfinity(await readFlat(scores, heads * rows * kvLength));
    return { kind: 'rows', data, heads, rowStart, rows, kvLength };
  }
  const qBlocks = Math.ceil(qLength / blockQ);
  const kBlocks = Math.ceil(kvLength / blockK);
  const pooled = await ctx.cache.run(
    { key: `block-max|d${dim}`, source: blockMaxKernel, constants, pipeline: false },
    [kBlocks, heads * qBlocks],
    scores,
    qLength,
    kvLength,
    qBlocks,
    blockQ,
    blockK,
  );
  const data = maskedToInfinity(await readFlat(pooled, heads * qBlocks * kBlocks));
  return { kind: 'blocks', data, heads, qBlocks, kBlocks, blockQ, blockK };
}
