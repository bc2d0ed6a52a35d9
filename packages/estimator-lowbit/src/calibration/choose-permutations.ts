import { type Backend, createReferenceBackend, type RecipeDocument, SparselandError } from '@sparseland/core';
import { expectNumber, resolveAttentionShape } from '@sparseland/core/kit';
import { stridePermutation } from '../permutation.js';
import type { CalibrationItem } from './calibrate-sale.js';

export interface ChoosePermutationsOptions {
  /** Candidate strides (default 1, 2, 4, 8, 16, 32, 64; 1 is the original order). */
  readonly strides?: readonly number[];
  /** The block density at which recall is compared (default 0.1). */
  readonly density?: number;
  readonly blockQ?: number;
  readonly blockK?: number;
  readonly backend?: Backend;
}

/** The chosen stride of one (layer, head) and the block recall every candidate reached. */
export interface PermutationChoice {
  readonly layer: number;
  readonly head: number;
  readonly stride: number;
  /** Per candidate stride: the oracle block recall at the target density in that order. */
  readonly recall: Readonly<Record<string, number>>;
}

/**
 * PARO's offline choice, per (layer, head): for every candidate order, the best block selection at the target
 * density (blocks ranked by their share of dense attention mass per kept pair, pairs counted with the original
 * causality) and the attention mass it keeps; the order that keeps the most wins. PARO picks among a video's six
 * axis orders by how block-wise the permuted map is; these are the 1-D analogue (an interpretation).
 */
export async function choosePermutations(
  items: readonly CalibrationItem[],
  options: ChoosePermutationsOptions = {},
): Promise<PermutationChoice[]> {
  if (!Array.isArray(items) || items.length === 0)
    throw new SparselandError('E_PARAMS', 'choosePermutations: items must be a non-empty array');
  const strides = options.strides ?? [1, 2, 4, 8, 16, 32, 64];
  const density = expectNumber(options.density ?? 0.1, 'density', 1e-6, 1);
  const blockQ = options.blockQ ?? 64;
  const blockK = options.blockK ?? 64;
  const backend = options.backend ?? createReferenceBackend();
  const sums = new Map<string, Map<number, number>>();
  const counts = new Map<string, number>();
  for (const item of items) {
    const shape = resolveAttentionShape(item);
    if (shape.qLength !== shape.kvLength)
      throw new SparselandError('E_SHAPE', 'choosePermutations needs full prefill traces (qLength = kvLength)');
    const n = shape.qLength;
    const probs = (await backend.lastQueriesAttention({ q: item.q, k: item.k }, { count: n, causal: true })).data;
    for (let h = 0; h < shape.heads; h++) {
      const key = `${item.layer}/${h}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      const perStride = sums.get(key) ?? new Map<number, number>();
      sums.set(key, perStride);
      for (const stride of strides) {
        const recall = oracleBlockRecall(probs, h, n, stridePermutation(n, stride), blockQ, blockK, density);
        perStride.set(stride, (perStride.get(stride) ?? 0) + recall);
      }
    }
  }
  if (options.backend === undefined) await backend.dispose();
  const out: PermutationChoice[] = [];
  for (const [key, perStride] of sums) {
    const [layer, head] = key.split('/').map(Number) as [number, number];
    const recall: Record<string, number> = {};
    let best = 1;
    let bestRecall = -1;
    for (const [stride, sum] of perStride) {
      const r = sum / (counts.get(key) as number);
      recall[String(stride)] = r;
      // Ties keep the smaller stride (the original order first).
      if (r > bestRecall + 1e-9) {
        best = stride;
        bestRecall = r;
      }
    }
    out.push({ layer, head, stride: best, recall });
  }
  return out.sort((a, b) => a.layer - b.layer || a.head - b.head);
}

/**
 * The attention mass (mean over rows) an oracle keeps at `density` when it picks whole blocks of the permuted map:
 * blocks ranked by mass per visible pair, greedily, until the visible pairs reach density × causal pairs.
 */
export function oracleBlockRecall(
  probs: Float32Array,
  h: number,
  n: number,
  perm: { order: Int32Array; inverse: Int32Array },
  blockQ: number,
  blockK: number,
  density: number,
): number {
  const qBlocks = Math.ceil(n / blockQ);
  const kBlocks = Math.ceil(n / blockK);
  const mass = new Float64Array(qBlocks * kBlocks);
  const pairs = new Float64Array(qBlocks * kBlocks);
  for (let i = 0; i < n; i++) {
    const row = (h * n + i) * n;
    const qb = Math.floor((perm.inverse[i] as number) / blockQ) * kBlocks;
    for (let j = 0; j <= i; j++) {
      const at = qb + Math.floor((perm.inverse[j] as number) / blockK);
      mass[at] = (mass[at] as number) + (probs[row + j] as number);
      pairs[at] = (pairs[at] as number) + 1;
    }
  }
  const ids = Array.from(mass.keys()).filter((b) => (pairs[b] as number) > 0);
  ids.sort((a, b) => (mass[b] as number) / (pairs[b] as number) - (mass[a] as number) / (pairs[a] as number));
  const budget = (density * n * (n + 1)) / 2;
  let kept = 0;
  let got = 0;
  for (const b of ids) {
    if (kept + (pairs[b] as number) > budget) continue;
    kept += pairs[b] as number;
    got += mass[b] as number;
  }
  return got / n;
}

/** A recipe for the paro estimator with the chosen strides per layer (one list per layer, one stride per head). */
export function paroRecipe(
  choices: readonly PermutationChoice[],
  params: Record<string, unknown> = {},
  blocks = { blockQ: 64, blockK: 64 },
): RecipeDocument {
  const byLayer = new Map<number, number[]>();
  for (const c of choices) {
    const list = byLayer.get(c.layer) ?? [];
    list[c.head] = c.stride;
    byLayer.set(c.layer, list);
  }
  const layers: Record<string, { default: { method: string; params: Record<string, unknown> } }> = {};
  for (const [layer, strides] of byLayer)
    layers[String(layer)] = { default: { method: 'paro', params: { ...params, strides: Array.from(strides, (s) => s ?? 1) } } };
  return {
    version: 1,
    description: 'PAROAttention with per-head orders chosen on calibration traces',
    ...blocks,
    default: { method: 'paro', params },
    layers,
  };
}
