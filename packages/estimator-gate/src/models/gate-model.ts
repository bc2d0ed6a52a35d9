import type { GateConfig, GateKind, GateWeights } from '../gate-weights.js';
import type { GateSample } from '../train/samples.js';

/** Gradients by tensor name, accumulated in float64. */
export type Gradients = Record<string, Float64Array>;

/** What the training loop needs from a trainable estimator. */
export interface GateModel {
  readonly kind: GateKind;
  /** Fresh weights for `config`, initialised from `seed` (PyTorch's default uniform ±1/√fan_in for linear layers). */
  init(config: GateConfig, seed: number): GateWeights;
  /** The sample's loss (mean KL divergence of the target from the prediction); adds ∂loss/∂tensor into `grads`. */
  loss(weights: GateWeights, sample: GateSample, grads?: Gradients): number;
}

/** y[n][out] = x[n][in] · W[in][out], float64 accumulation (W at offset `wAt` of a larger tensor). */
export function matmul(
  x: ArrayLike<number>,
  xAt: number,
  n: number,
  inDim: number,
  w: Float32Array,
  wAt: number,
  outDim: number,
): Float64Array {
  const y = new Float64Array(n * outDim);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < inDim; c++) {
      const a = x[xAt + r * inDim + c] as number;
      if (a === 0) continue;
      const wRow = wAt + c * outDim;
      const yRow = r * outDim;
      for (let o = 0; o < outDim; o++) y[yRow + o] = (y[yRow + o] as number) + a * (w[wRow + o] as number);
    }
  }
  return y;
}

/** g[in][out] += x[n][in]ᵀ · dy[n][out] (the weight gradient of `matmul`). */
export function addWeightGradient(
  g: Float64Array,
  gAt: number,
  x: ArrayLike<number>,
  xAt: number,
  n: number,
  inDim: number,
  dy: Float64Array,
  outDim: number,
): void {
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < inDim; c++) {
      const a = x[xAt + r * inDim + c] as number;
      if (a === 0) continue;
      const gRow = gAt + c * outDim;
      const dRow = r * outDim;
      for (let o = 0; o < outDim; o++) g[gRow + o] = (g[gRow + o] as number) + a * (dy[dRow + o] as number);
    }
  }
}

/** Uniform ±1/√fanIn values from a seeded generator. */
export function uniformInit(size: number, fanIn: number, next: () => number): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (2 * next() - 1) * bound;
  return out;
}
