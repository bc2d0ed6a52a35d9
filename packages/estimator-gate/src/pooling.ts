import type { HeadTensor } from '@sparseland/core';
import { poolRows } from '@sparseland/core/kit';

export type Pool = 'avg' | 'max' | 'min';

/**
 * Pools a head tensor over blocks of `block` positions, one pool after the other along the channels:
 * out[h][b] = [pool₀(rows of block b), pool₁(...), ...], each `dim` wide (core's poolRows, float64). The last block
 * may be short. Returns [heads][blocks][pools.length · dim].
 */
export function poolBlocks(x: HeadTensor, block: number, pools: readonly Pool[]): Float32Array {
  const { heads, length, dim } = x;
  const blocks = Math.ceil(length / block);
  const width = pools.length * dim;
  const out = new Float32Array(heads * blocks * width);
  const pooled = new Float64Array(dim);
  for (let h = 0; h < heads; h++) {
    for (let b = 0; b < blocks; b++) {
      for (const [p, kind] of pools.entries()) {
        poolRows(x, h, b * block, Math.min(length, (b + 1) * block), kind === 'avg' ? 'mean' : kind, pooled);
        out.set(pooled, (h * blocks + b) * width + p * dim);
      }
    }
  }
  return out;
}
