import { type Backend, createReferenceBackend, type HeadTensor, type RecipeDocument, SparselandError } from '@sparseland/core';
import { createCostMeter, expectNumber, resolveAttentionShape } from '@sparseland/core/kit';
import { blocksAbove, exactRegion, type SaleParams, saleBlockValues, saleParams } from '../estimators/sale.js';

/** One calibration input: a layer's Q, K, V over a prompt (e.g. an eval real-trace item). */
export interface CalibrationItem {
  readonly layer: number;
  readonly q: HeadTensor;
  readonly k: HeadTensor;
  readonly v: HeadTensor;
}

export interface CalibrateSaleOptions {
  /** Output-error budget per query row: a head's summed L1 error must stay under θ · qLength (default 0.4, SALE's dynamic_0.4). */
  readonly theta?: number;
  /** First τ tried (default 0.008, SALE's calibration). */
  readonly start?: number;
  /** Below this τ the head becomes dense (τ = 0; default 1e-4, SALE's calibration). */
  readonly floor?: number;
  /** The estimator's other parameters (bits, scales, local window, sink blocks). */
  readonly params?: Partial<Omit<SaleParams, 'threshold' | 'thresholds'>>;
  readonly blockQ?: number;
  readonly blockK?: number;
  readonly backend?: Backend;
}

/**
 * SALE's offline threshold selection, per layer and head: start at τ = 0.008, compute the head's output with the SALE
 * mask and its L1 error against dense attention, and halve τ while the error is ≥ θ · qLength; below 1e-4 the head
 * is dense (τ = 0). With several items of one layer the mean error counts. Returns τ per layer (by layer index) and head.
 */
export async function calibrateSale(items: readonly CalibrationItem[], options: CalibrateSaleOptions = {}): Promise<Map<number, number[]>> {
  if (!Array.isArray(items) || items.length === 0)
    throw new SparselandError('E_PARAMS', 'calibrateSale: items must be a non-empty array of {layer, q, k, v}');
  const theta = expectNumber(options.theta ?? 0.4, 'theta', 0);
  const start = expectNumber(options.start ?? 0.008, 'start', 1e-12, 1);
  const floor = expectNumber(options.floor ?? 1e-4, 'floor', 0, start);
  const params = saleParams.parse({ ...options.params });
  const blockQ = options.blockQ ?? 64;
  const blockK = options.blockK ?? 32;
  const backend = options.backend ?? createReferenceBackend();
  const byLayer = new Map<number, CalibrationItem[]>();
  for (const item of items) byLayer.set(item.layer, [...(byLayer.get(item.layer) ?? []), item]);
  const result = new Map<number, number[]>();
  for (const [layer, group] of [...byLayer].sort((a, b) => a[0] - b[0])) {
    const prepared = [];
    for (const item of group) {
      const shape = resolveAttentionShape(item);
      const input = { q: item.q, k: item.k, v: item.v, shape, causal: true };
      const ctx = { backend, cost: createCostMeter(), seed: 0, layer, blockQ, blockK };
      const exact = exactRegion(input, ctx, params);
      const values = await saleBlockValues(input, ctx, params, exact);
      const dense = await backend.attend({ q: item.q, k: item.k, v: item.v }, { causal: true });
      prepared.push({ item, shape, exact, values: values.data, dense: dense.output.data });
    }
    const heads = (prepared[0] as { shape: { heads: number } }).shape.heads;
    const tau = Array.from({ length: heads }, () => start);
    const done = Array.from({ length: heads }, () => false);
    while (done.some((d) => !d)) {
      const error = new Float64Array(heads);
      for (const p of prepared) {
        const mask = blocksAbove(p.values, p.shape, { blockQ, blockK }, p.exact, true, (h) => Math.log(tau[h] as number));
        const out = await backend.attend({ q: p.item.q, k: p.item.k, v: p.item.v }, { mask: { blocks: mask }, causal: true });
        const per = p.shape.qLength * p.shape.dim;
        for (let h = 0; h < heads; h++) {
          let l1 = 0;
          for (let x = h * per; x < (h + 1) * per; x++) l1 += Math.abs((out.output.data[x] as number) - (p.dense[x] as number));
          error[h] = (error[h] as number) + l1 / p.shape.qLength / prepared.length;
        }
      }
      for (let h = 0; h < heads; h++) {
        if (done[h]) continue;
        if ((error[h] as number) < theta) done[h] = true;
        else {
          tau[h] = (tau[h] as number) / 2;
          if ((tau[h] as number) < floor) {
            tau[h] = 0;
            done[h] = true;
          }
        }
      }
    }
    result.set(layer, tau);
  }
  if (options.backend === undefined) await backend.dispose();
  return result;
}

/** A recipe with SALE's calibrated thresholds per layer (one `thresholds` list per layer), other params shared. */
export function saleRecipe(
  thresholds: ReadonlyMap<number, readonly number[]>,
  params: Record<string, unknown> = {},
  blocks = { blockQ: 64, blockK: 32 },
): RecipeDocument {
  const layers: Record<string, { default: { method: string; params: Record<string, unknown> } }> = {};
  for (const [layer, perHead] of thresholds)
    layers[String(layer)] = { default: { method: 'sale', params: { ...params, thresholds: [...perHead] } } };
  return {
    version: 1,
    description: 'SALE with per-head thresholds calibrated by output error (calibrateSale)',
    ...blocks,
    default: { method: 'sale', params },
    layers,
  };
}
