import {
  type BlockScores,
  describeValue,
  expectInteger,
  type PooledScoresOptions,
  type PoolKind,
  resolveScoreShape,
  type ScoreInput,
  SparselandError,
} from '@sparseland/core';
import { pooledDotKernel, poolRowsKernel } from '../kernels/estimator-kernels.js';
import { maskedToInfinity, readFlat } from '../runtime/readback.js';
import { type GpuContext, tensorGrid } from './context.js';

const POOL_CODES: Record<PoolKind, number> = { mean: 0, max: 1, min: 2 };

/** Backend.pooledScores: pool Q and K per block on the device, then one dot product per (query block, key block). */
export async function pooledScores(ctx: GpuContext, input: ScoreInput, options: PooledScoresOptions): Promise<BlockScores> {
  const shape = resolveScoreShape(input);
  const blockQ = expectInteger(options.blockQ, 'blockQ', 1);
  const blockK = expectInteger(options.blockK, 'blockK', 1);
  const qPool = poolCode(options.qPool ?? 'mean', 'qPool');
  const kPool = poolCode(options.kPool ?? 'mean', 'kPool');
  const qBlocks = Math.ceil(shape.qLength / blockQ);
  const kBlocks = Math.ceil(shape.kvLength / blockK);
  const dim = shape.dim;
  const constants = { dim };
  // Two instances of the pooling kernel: each owns its output buffer, and both outputs feed the dot product.
  const pooledQ = await ctx.cache.run(
    { key: `pool-q|d${dim}`, source: poolRowsKernel, constants, pipeline: true },
    [dim, shape.heads * qBlocks],
    tensorGrid(ctx, input.q),
    shape.qLength,
    blockQ,
    qBlocks,
    qPool,
  );
  const pooledK = await ctx.cache.run(
    { key: `pool-k|d${dim}`, source: poolRowsKernel, constants, pipeline: true },
    [dim, shape.kvHeads * kBlocks],
    tensorGrid(ctx, input.k),
    shape.kvLength,
    blockK,
    kBlocks,
    kPool,
  );
  const scores = await ctx.cache.run(
    { key: `pooled-dot|d${dim}`, source: pooledDotKernel, constants, pipeline: false },
    [kBlocks, shape.heads * qBlocks],
    pooledQ,
    pooledK,
    qBlocks,
    kBlocks,
    shape.qLength,
    blockQ,
    blockK,
    shape.qOffset,
    shape.heads / shape.kvHeads,
    (options.causal ?? true) ? 1 : 0,
    options.scale ?? 1,
  );
  const data = maskedToInfinity(await readFlat(scores, shape.heads * qBlocks * kBlocks));
  return { kind: 'blocks', data, heads: shape.heads, qBlocks, kBlocks, blockQ, blockK };
}

function poolCode(kind: PoolKind, what: string): number {
  const code = Object.hasOwn(POOL_CODES, kind) ? POOL_CODES[kind] : undefined;
  if (code === undefined) throw new SparselandError('E_PARAMS', `${what} must be 'mean', 'max' or 'min', got ${describeValue(kind)}`);
  return code;
}
