import type { AttentionShape } from '@sparseland/core';
import { createRng } from '@sparseland/core/kit';
import { type BlockGrid, blockGrid, queryBlockPosition } from '../block-geometry.js';
import { type GateConfig, type GateWeights, tensorOf } from '../gate-weights.js';
import { rotateRows } from '../rope.js';
import type { GateSample } from '../train/samples.js';
import { addWeightGradient, type GateModel, type Gradients, matmul, uniformInit } from './gate-model.js';

// SeerAttention's AttnGate, type Qavg_Kmaxminavg (microsoft/SeerAttention `attn_gate.py`): per-head linear layers
// without bias map the avg-pooled query block (dim) and the max/min/avg-pooled key block (3·dim) to `hidden`; RoPE
// at block positions; gate = softmax over the visible key blocks of q̃·k̃ / √hidden. K's layer is per kv head and
// shared by the query heads of its group (the reference repeats K heads for GQA).

export const seerNames = (layer: number) => ({ q: `layers.${layer}.q_proj`, k: `layers.${layer}.k_proj` });

/** Projected, block-rotated gate queries [heads][qBlocks][hidden] and keys [kvHeads][kBlocks][hidden]. */
export interface SeerProjection {
  readonly q: Float64Array;
  readonly k: Float64Array;
}

export function seerProject(
  weights: GateWeights,
  layer: number,
  shape: AttentionShape,
  grid: BlockGrid,
  qAvg: Float32Array,
  kPool: Float32Array,
): SeerProjection {
  const { heads, kvHeads, dim, hidden } = weights.config;
  const names = seerNames(layer);
  const wq = tensorOf(weights, names.q, heads * dim * hidden);
  const wk = tensorOf(weights, names.k, kvHeads * 3 * dim * hidden);
  const q = new Float64Array(heads * grid.qBlocks * hidden);
  const k = new Float64Array(kvHeads * grid.kBlocks * hidden);
  for (let h = 0; h < heads; h++) {
    const y = matmul(qAvg, h * grid.qBlocks * dim, grid.qBlocks, dim, wq, h * dim * hidden, hidden);
    rotateRows(y, grid.qBlocks, hidden, (r) => queryBlockPosition(shape, grid, r));
    q.set(y, h * grid.qBlocks * hidden);
  }
  for (let g = 0; g < kvHeads; g++) {
    const y = matmul(kPool, g * grid.kBlocks * 3 * dim, grid.kBlocks, 3 * dim, wk, g * 3 * dim * hidden, hidden);
    rotateRows(y, grid.kBlocks, hidden, (r) => r);
    k.set(y, g * grid.kBlocks * hidden);
  }
  return { q, k };
}

/** The first quarter of query-block rows is left out of the loss (SeerAttention's training, "for stability"). */
export function firstTrainedRow(qBlocks: number): number {
  return Math.floor(qBlocks / 4);
}

export const seerGateModel: GateModel = {
  kind: 'seer-attention',
  init(config: GateConfig, seed: number): GateWeights {
    const rng = createRng(seed);
    const { heads, kvHeads, dim, hidden, layers } = config;
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (let l = 0; l < layers; l++) {
      const names = seerNames(l);
      tensors[names.q] = { shape: [heads, dim, hidden], data: uniformInit(heads * dim * hidden, dim, rng.next) };
      tensors[names.k] = { shape: [kvHeads, 3 * dim, hidden], data: uniformInit(kvHeads * 3 * dim * hidden, 3 * dim, rng.next) };
    }
    return { config, tensors, meta: {} };
  },

  loss(weights: GateWeights, sample: GateSample, grads?: Gradients): number {
    const { heads, kvHeads, dim, hidden } = weights.config;
    const grid = blockGrid(sample.shape, sample.blockSize, sample.blockSize, true);
    const nb = grid.qBlocks;
    const { q, k } = seerProject(weights, sample.layer, sample.shape, grid, sample.qAvg, sample.kPool);
    const names = seerNames(sample.layer);
    const scale = 1 / Math.sqrt(hidden);
    const first = firstTrainedRow(nb);
    const rowsCounted = heads * (nb - first);
    const group = heads / kvHeads;
    const dk = grads ? new Float64Array(kvHeads * nb * hidden) : undefined;
    const logits = new Float64Array(nb);
    let loss = 0;
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / group);
      const dq = grads ? new Float64Array(nb * hidden) : undefined;
      for (let i = first; i < nb; i++) {
        const last = grid.lastVisible[i] as number;
        const qi = (h * nb + i) * hidden;
        let max = -Infinity;
        for (let j = 0; j <= last; j++) {
          let s = 0;
          const kj = (g * nb + j) * hidden;
          for (let c = 0; c < hidden; c++) s += (q[qi + c] as number) * (k[kj + c] as number);
          logits[j] = s * scale;
          if ((logits[j] as number) > max) max = logits[j] as number;
        }
        let sum = 0;
        for (let j = 0; j <= last; j++) sum += Math.exp((logits[j] as number) - max);
        const logSum = max + Math.log(sum);
        const tBase = (h * nb + i) * nb;
        for (let j = 0; j <= last; j++) {
          const t = sample.target[tBase + j] as number;
          const logP = (logits[j] as number) - logSum;
          if (t > 0) loss += t * (Math.log(t) - logP);
          if (!dq || !dk) continue;
          // ∂KL/∂logit = p − t (rows sum to 1), averaged over the counted rows.
          const d = (Math.exp(logP) - t) / rowsCounted;
          if (d === 0) continue;
          const kj = (g * nb + j) * hidden;
          const qRow = i * hidden;
          for (let c = 0; c < hidden; c++) {
            dq[qRow + c] = (dq[qRow + c] as number) + d * scale * (k[kj + c] as number);
            dk[kj + c] = (dk[kj + c] as number) + d * scale * (q[qi + c] as number);
          }
        }
      }
      if (dq && grads) {
        // The rotation is orthogonal: the gradient before it is the gradient after it rotated back.
        rotateRows(dq, nb, hidden, (r) => queryBlockPosition(sample.shape, grid, r), -1);
        addWeightGradient(grads[names.q] as Float64Array, h * dim * hidden, sample.qAvg, h * nb * dim, nb, dim, dq, hidden);
      }
    }
    if (dk && grads) {
      for (let g = 0; g < kvHeads; g++) {
        const part = dk.subarray(g * nb * hidden, (g + 1) * nb * hidden);
        rotateRows(part, nb, hidden, (r) => r, -1);
        addWeightGradient(grads[names.k] as Float64Array, g * 3 * dim * hidden, sample.kPool, g * nb * 3 * dim, nb, 3 * dim, part, hidden);
      }
    }
    return loss / rowsCounted;
  },
};
