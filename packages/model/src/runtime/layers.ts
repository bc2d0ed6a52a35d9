import { RMS_NORM_EPS } from '../checkpoint/config.js';

/** out = g ⊙ x / √(mean(x²) + 1e-5), per row of `dim` values (out may be x). */
export function rmsNormRows(out: Float32Array, x: Float32Array, gain: Float32Array, rows: number, dim: number): void {
  for (let t = 0; t < rows; t++) {
    const base = t * dim;
    let ss = 0;
    for (let j = 0; j < dim; j++) {
      const v = x[base + j] as number;
      ss += v * v;
    }
    const inv = 1 / Math.sqrt(ss / dim + RMS_NORM_EPS);
    for (let j = 0; j < dim; j++) out[base + j] = (gain[j] as number) * ((x[base + j] as number) * inv);
  }
}

/**
 * The SwiGLU of the feed-forward layer on the fused w1|w3 output: each of `count` rows of `fused` holds gate
 * (hidden values) then up (hidden values); out[t·hidden + i] = silu(gate) · up.
 */
export function swiGluRows(out: Float32Array, fused: Float32Array, count: number, hidden: number): void {
  for (let t = 0; t < count; t++) {
    const g0 = t * 2 * hidden;
    const u0 = g0 + hidden;
    const o0 = t * hidden;
    for (let i = 0; i < hidden; i++) {
      const g = fused[g0 + i] as number;
      out[o0 + i] = (g / (1 + Math.exp(-g))) * (fused[u0 + i] as number);
    }
  }
}

/** a += b, elementwise (the residual connection). */
export function addInPlace(a: Float32Array, b: Float32Array, count: number): void {
  for (let i = 0; i < count; i++) a[i] = (a[i] as number) + (b[i] as number);
}

/**
 * Token-major rows → head-major [heads][count][headDim] (the HeadTensor layout): row t's heads start at
 * `t·stride + offset` (the q, k or v part of a fused q|k|v projection).
 */
export function splitHeads(
  rows: Float32Array,
  count: number,
  heads: number,
  headDim: number,
  stride: number,
  offset: number,
): Float32Array {
  const out = new Float32Array(count * heads * headDim);
  for (let h = 0; h < heads; h++) {
    for (let t = 0; t < count; t++) {
      const from = t * stride + offset + h * headDim;
      out.set(rows.subarray(from, from + headDim), (h * count + t) * headDim);
    }
  }
  return out;
}

/** Head-major [heads][count][headDim] → token-major rows [count][heads·headDim], written into `out`. */
export function mergeHeads(data: Float32Array, count: number, heads: number, headDim: number, out: Float32Array): void {
  const width = heads * headDim;
  for (let h = 0; h < heads; h++) {
    for (let t = 0; t < count; t++) {
      const from = (h * count + t) * headDim;
      out.set(data.subarray(from, from + headDim), t * width + h * headDim);
    }
  }
}
