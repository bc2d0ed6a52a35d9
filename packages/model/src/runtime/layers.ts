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

/** gate ← silu(gate) ⊙ up, elementwise: the SwiGLU of the feed-forward layer. */
export function swiGlu(gate: Float32Array, up: Float32Array, count: number): void {
  for (let i = 0; i < count; i++) {
    const g = gate[i] as number;
    gate[i] = (g / (1 + Math.exp(-g))) * (up[i] as number);
  }
}

/** a += b, elementwise (the residual connection). */
export function addInPlace(a: Float32Array, b: Float32Array, count: number): void {
  for (let i = 0; i < count; i++) a[i] = (a[i] as number) + (b[i] as number);
}

/** Token-major rows [count][heads·headDim] → head-major [heads][count][headDim] (the HeadTensor layout). */
export function splitHeads(rows: Float32Array, count: number, heads: number, headDim: number): Float32Array {
  const out = new Float32Array(count * heads * headDim);
  const width = heads * headDim;
  for (let h = 0; h < heads; h++) {
    for (let t = 0; t < count; t++) {
      const from = t * width + h * headDim;
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
