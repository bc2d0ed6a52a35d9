import type { HeadTensor } from '@sparseland/core';

export type Pool = 'avg' | 'max' | 'min';

/**
 * Pools a head tensor over blocks of `block` positions, one pool after the other along the channels:
 * out[h][b] = [pool₀(rows of block b), pool₁(...), ...], each `dim` wide. The last block may be short.
 * Returns [heads][blocks][pools.length · dim].
 */
export function poolBlocks(x: HeadTensor, block: number, pools: readonly Pool[]): Float32Array {
  const { heads, length, dim } = x;
  const blocks = Math.ceil(length / block);
  const width = pools.length * dim;
  const out = new Float32Array(heads * blocks * width);
  const data = x.data;
  for (let h = 0; h < heads; h++) {
    for (let b = 0; b < blocks; b++) {
      const start = b * block;
      const end = Math.min(length, start + block);
      const base = (h * blocks + b) * width;
      for (let p = 0; p < pools.length; p++) {
        const kind = pools[p];
        const o = base + p * dim;
        for (let c = 0; c < dim; c++) {
          let acc = kind === 'max' ? -Infinity : kind === 'min' ? Infinity : 0;
          for (let i = start; i < end; i++) {
            const v = data[(h * length + i) * dim + c] as number;
            if (kind === 'avg') acc += v;
            else if (kind === 'max') acc = Math.max(acc, v);
            else acc = Math.min(acc, v);
          }
          out[o + c] = kind === 'avg' ? acc / (end - start) : acc;
        }
      }
    }
  }
  return out;
}
