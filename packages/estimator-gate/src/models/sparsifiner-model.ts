import { createRng } from '@sparseland/core/kit';
import { type GateConfig, type GateWeights, tensorOf } from '../gate-weights.js';
import type { GateSample } from '../train/samples.js';
import { addWeightGradient, type GateModel, type Gradients, matmul, uniformInit } from './gate-model.js';

// Sparsifiner's connectivity predictor, read for causal text: per head, down-projections of Q and K to a low rank r
// give approximate attention scores q̃·k̃ / √r, whose row softmax predicts where each query's attention goes. The
// paper (a ViT with a fixed 197 tokens) down-projects K along the token axis, Linformer-style, and up-projects with a
// sparse learned basis; a causal prompt of any length has no fixed token axis, so the rank reduction here is on the
// feature axis (an interpretation). Trained by distillation: the predicted softmax mass of each key block against the
// dense row's, KL divergence, on sampled query rows.

export const sparsifinerNames = (layer: number) => ({ q: `layers.${layer}.q_down`, k: `layers.${layer}.k_down` });

export const sparsifinerModel: GateModel = {
  kind: 'sparsifiner',
  init(config: GateConfig, seed: number): GateWeights {
    const rng = createRng(seed);
    const { heads, kvHeads, dim, hidden, layers } = config;
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (let l = 0; l < layers; l++) {
      const names = sparsifinerNames(l);
      tensors[names.q] = { shape: [heads, dim, hidden], data: uniformInit(heads * dim * hidden, dim, rng.next) };
      tensors[names.k] = { shape: [kvHeads, dim, hidden], data: uniformInit(kvHeads * dim * hidden, dim, rng.next) };
    }
    return { config, tensors, meta: {} };
  },

  loss(weights: GateWeights, sample: GateSample, grads?: Gradients): number {
    const { heads, kvHeads, dim, hidden: r } = weights.config;
    const rows = sample.rows;
    const keys = sample.k;
    if (!rows || !keys) throw new Error('sparsifiner sample without rows or keys');
    const n = sample.shape.kvLength;
    const nb = Math.ceil(n / sample.blockSize);
    const count = rows.index.length;
    const names = sparsifinerNames(sample.layer);
    const wq = tensorOf(weights, names.q, heads * dim * r);
    const wk = tensorOf(weights, names.k, kvHeads * dim * r);
    const scale = 1 / Math.sqrt(r);
    const group = heads / kvHeads;
    const rowsCounted = heads * count;
    const s = new Float64Array(n);
    const mass = new Float64Array(nb);
    let loss = 0;
    for (let g = 0; g < kvHeads; g++) {
      const kr = matmul(keys, g * n * dim, n, dim, wk, g * dim * r, r);
      const dkr = grads ? new Float64Array(n * r) : undefined;
      for (let h = g * group; h < (g + 1) * group; h++) {
        const qr = matmul(rows.q, h * count * dim, count, dim, wq, h * dim * r, r);
        const dqr = grads ? new Float64Array(count * r) : undefined;
        for (let ri = 0; ri < count; ri++) {
          const i = rows.index[ri] as number;
          let max = -Infinity;
          for (let j = 0; j <= i; j++) {
            let dot = 0;
            for (let c = 0; c < r; c++) dot += (qr[ri * r + c] as number) * (kr[j * r + c] as number);
            s[j] = dot * scale;
            if ((s[j] as number) > max) max = s[j] as number;
          }
          let sum = 0;
          for (let j = 0; j <= i; j++) {
            s[j] = Math.exp((s[j] as number) - max);
            sum += s[j] as number;
          }
          mass.fill(0);
          for (let j = 0; j <= i; j++) {
            s[j] = (s[j] as number) / sum;
            const at = Math.floor(j / sample.blockSize);
            mass[at] = (mass[at] as number) + (s[j] as number);
          }
          const tBase = (h * count + ri) * nb;
          for (let b = 0; b < nb; b++) {
            const t = rows.mass[tBase + b] as number;
            if (t > 0) loss += t * (Math.log(t) - Math.log(Math.max(mass[b] as number, 1e-30)));
          }
          if (!dqr || !dkr) continue;
          // ∂KL/∂s_j = p_j (1 − t_b / m_b) for key j in block b (the targets sum to 1).
          for (let j = 0; j <= i; j++) {
            const b = Math.floor(j / sample.blockSize);
            const t = rows.mass[tBase + b] as number;
            const d = ((s[j] as number) * (1 - t / Math.max(mass[b] as number, 1e-30)) * scale) / rowsCounted;
            if (d === 0) continue;
            for (let c = 0; c < r; c++) {
              dqr[ri * r + c] = (dqr[ri * r + c] as number) + d * (kr[j * r + c] as number);
              dkr[j * r + c] = (dkr[j * r + c] as number) + d * (qr[ri * r + c] as number);
            }
          }
        }
        if (dqr && grads) addWeightGradient(grads[names.q] as Float64Array, h * dim * r, rows.q, h * count * dim, count, dim, dqr, r);
      }
      if (dkr && grads) addWeightGradient(grads[names.k] as Float64Array, g * dim * r, keys, g * n * dim, n, dim, dkr, r);
    }
    return loss / rowsCounted;
  },
};
