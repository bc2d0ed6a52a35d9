import { type BlockScores, type PooledScoresOptions, type PoolKind, resolvePooledScoresCall, type ScoreInput } from '@sparseland/core/kit';
import { pooledDotKernel, poolRowsKernel } from '../kernels/estimator-kernels.js';
import { maskedToInfinity, readFlat } from '../runtime/readback.js';
import { type GpuContext, tensorGrid } from './context.js';

const POOL_CODES: Record<PoolKind, number> = { mean: 0, max: 1, min: 2 };

/** Backend.pooledScores: pool Q and K per block on the device, then one dot product per (query block, key block). */
export async function pooledScores(ctx: GpuContext, input: ScoreInput, options: PooledScoresOptions): Promise<BlockScores> {
  const call = resolvePooledScoresCall(input, options);
  const { shape, blockQ, blockK, qBlocks, kBlocks } = call;
  const qPool = POOL_CODES[call.qPool];
  const kPool = POOL_CODES[call.kPool];
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
    call.causal ? 1 : 0,
    call.scale,
  );
  const data = maskedToInfinity(await readFlat(scores, shape.heads * qBlocks * kBlocks));
  return { kind: 'blocks', data, heads: shape.heads, qBlocks, kBlocks, blockQ, blockK };
}
