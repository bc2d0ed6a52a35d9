import type { HeadTensor } from '@sparseland/core';
import { TILE } from '../scratch-layout.js';

/** Floats of the packed K of one head with `length` keys: 64-key chunks of [dp][64]. */
export function packedFloats(length: number, dp: number): number {
  return Math.ceil(length / TILE) * TILE * dp;
}

/**
 * Packs keys [0, length) of head `head` of `k` into f32[dst...] as 64-key chunks stored transposed:
 * chunk (j >> 6) holds kp[c·64 + (j & 63)] = k[j][c]. Padding channels (c >= dim) are zero. This is the layout the
 * score tiles read: 8 consecutive keys of one channel are one pair of SIMD loads.
 */
export function packKeys(k: HeadTensor, head: number, f32: Float32Array, dst: number, dp: number): void {
  const { length, dim, data } = k;
  const chunks = Math.ceil(length / TILE);
  for (let ch = 0; ch < chunks; ch++) {
    const base = dst + ch * TILE * dp;
    const j0 = ch * TILE;
    const n = Math.min(TILE, length - j0);
    const src0 = (head * length + j0) * dim;
    // Four keys per pass: each channel's four values land side by side (a third less time than key by key).
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const s0 = src0 + j * dim;
      let at = base + j;
      for (let c = 0; c < dim; c++, at += TILE) {
        f32[at] = data[s0 + c] as number;
        f32[at + 1] = data[s0 + dim + c] as number;
        f32[at + 2] = data[s0 + 2 * dim + c] as number;
        f32[at + 3] = data[s0 + 3 * dim + c] as number;
      }
    }
    for (; j < n; j++) {
      let src = src0 + j * dim;
      let at = base + j;
      for (let c = 0; c < dim; c++, at += TILE) f32[at] = data[src++] as number;
    }
    for (let c = dim; c < dp; c++) f32.fill(0, base + c * TILE, base + (c + 1) * TILE);
  }
}

/** Copies rows of `t` (one head, rows [0, length)) into rows of dp floats at f32[dst...], zero padded. */
export function copyRows(t: HeadTensor, head: number, f32: Float32Array, dst: number, dp: number): void {
  const { length, dim, data } = t;
  const from = head * length * dim;
  if (dim === dp) {
    f32.set(data.subarray(from, from + length * dim), dst);
    return;
  }
  for (let r = 0; r < length; r++) {
    f32.set(data.subarray(from + r * dim, from + (r + 1) * dim), dst + r * dp);
    f32.fill(0, dst + r * dp + dim, dst + (r + 1) * dp);
  }
}
