import { createRng } from '@sparseland/core/kit';
import { type GateConfig, type GateWeights, tensorOf } from '../gate-weights.js';
import type { GateSample } from '../train/samples.js';
import { type GateModel, type Gradients, uniformInit } from './gate-model.js';

// Dynamic Mask Attention (SmallDoges' DynamicMaskAttention): a linear layer `dt_proj` maps each token's values (all
// kv heads concatenated) to one number per query head, and the mask score is z = A_h · softplus(dt) (the module's
// exp(A · softplus(dt)) ranks the same); each head keeps the keys with the highest scores. In the paper the whole
// model learns through the masked attention; here the base model is frozen, so dt_proj, its bias and A are
// distilled instead (an interpretation): softmax_j(z_j) is fitted to the attention each key receives, averaged over
// the queries that see it, by KL divergence.

export const dmaNames = (layer: number) => ({
  w: `layers.${layer}.dt_proj.weight`,
  b: `layers.${layer}.dt_proj.bias`,
  a: `layers.${layer}.A`,
});

export function softplus(x: number): number {
  return x > 20 ? x : Math.log1p(Math.exp(x));
}

/** Mask scores z [heads][n] of one layer from the values [kvHeads][n][dim]. */
export function dmaScores(weights: GateWeights, layer: number, values: Float32Array, n: number): { z: Float64Array; dt: Float64Array } {
  const { heads, kvHeads, dim } = weights.config;
  const names = dmaNames(layer);
  const w = tensorOf(weights, names.w, kvHeads * dim * heads);
  const bias = tensorOf(weights, names.b, heads);
  const a = tensorOf(weights, names.a, heads);
  const dt = new Float64Array(heads * n);
  const z = new Float64Array(heads * n);
  for (let j = 0; j < n; j++) {
    for (let h = 0; h < heads; h++) {
      let acc = bias[h] as number;
      for (let g = 0; g < kvHeads; g++) {
        const vBase = (g * n + j) * dim;
        const wBase = g * dim * heads;
        for (let c = 0; c < dim; c++) acc += (values[vBase + c] as number) * (w[wBase + c * heads + h] as number);
      }
      dt[h * n + j] = acc;
      z[h * n + j] = (a[h] as number) * softplus(acc);
    }
  }
  return { z, dt };
}

export const dmaModel: GateModel = {
  kind: 'dma',
  init(config: GateConfig, seed: number): GateWeights {
    const rng = createRng(seed);
    const { heads, kvHeads, dim, layers } = config;
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (let l = 0; l < layers; l++) {
      const names = dmaNames(l);
      tensors[names.w] = { shape: [kvHeads * dim, heads], data: uniformInit(kvHeads * dim * heads, kvHeads * dim, rng.next) };
      tensors[names.b] = { shape: [heads], data: new Float32Array(heads) };
      // A starts at zero, as in the reference module (every key scores exp(0) = 1 until it learns).
      tensors[names.a] = { shape: [heads], data: new Float32Array(heads) };
    }
    return { config, tensors, meta: {} };
  },

  loss(weights: GateWeights, sample: GateSample, grads?: Gradients): number {
    const { heads, kvHeads, dim } = weights.config;
    const values = sample.v;
    const columns = sample.columns;
    if (!values || !columns) throw new Error('dma sample without values or column masses');
    const n = sample.shape.kvLength;
    const names = dmaNames(sample.layer);
    const a = tensorOf(weights, names.a, heads);
    const { z, dt } = dmaScores(weights, sample.layer, values, n);
    let loss = 0;
    for (let h = 0; h < heads; h++) {
      let max = -Infinity;
      for (let j = 0; j < n; j++) max = Math.max(max, z[h * n + j] as number);
      let sum = 0;
      for (let j = 0; j < n; j++) sum += Math.exp((z[h * n + j] as number) - max);
      const logSum = max + Math.log(sum);
      for (let j = 0; j < n; j++) {
        const t = columns[h * n + j] as number;
        const logP = (z[h * n + j] as number) - logSum;
        if (t > 0) loss += t * (Math.log(t) - logP);
        if (!grads) continue;
        const dz = (Math.exp(logP) - t) / heads;
        if (dz === 0) continue;
        const x = dt[h * n + j] as number;
        const ga = grads[names.a] as Float64Array;
        ga[h] = (ga[h] as number) + dz * softplus(x);
        const dDt = dz * (a[h] as number) * (1 / (1 + Math.exp(-x)));
        if (dDt === 0) continue;
        const gb = grads[names.b] as Float64Array;
        gb[h] = (gb[h] as number) + dDt;
        const gw = grads[names.w] as Float64Array;
        for (let g = 0; g < kvHeads; g++) {
          const vBase = (g * n + j) * dim;
          for (let c = 0; c < dim; c++) {
            const at = g * dim * heads + c * heads + h;
            gw[at] = (gw[at] as number) + (values[vBase + c] as number) * dDt;
          }
        }
      }
    }
    return loss / heads;
  },
};
