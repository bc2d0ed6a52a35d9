import {
  type AttentionResult,
  type AttentionShape,
  attention,
  attentionFlops,
  type Backend,
  type CompiledRecipe,
  type SparseMask,
  sparseMaskToDense,
} from '@sparseland/core';
import { fillRowMembership, resolveAttentionShape } from '@sparseland/core/kit';
import { measureItem, relativeError, sumHeadMeasurements } from '@sparseland/eval';
import { fnv1a } from './mask-hash.js';
import type { HeadMetrics, LayerSummary, MethodResult } from './protocol.js';
import type { TraceStore } from './trace-store.js';

/** One method run on one captured layer, before it is measured. */
export interface MethodRun {
  readonly layer: number;
  readonly shape: AttentionShape;
  readonly run: AttentionResult;
  readonly backend: string;
  readonly attentionMs: number;
}

/** Runs a method on a layer exactly as `evaluateMethods` does: attention() on the backend, causal, seed 0. */
export async function runMethod(store: TraceStore, layer: number, recipe: CompiledRecipe, backend: Backend): Promise<MethodRun> {
  const item = await store.layer(layer);
  const input = { q: item.q, k: item.k, v: item.v };
  const shape = resolveAttentionShape(input);
  const t0 = performance.now();
  const run = await attention(input, { recipe, backend, causal: true, layer, seed: 0, returnStats: false, checkFinite: false });
  return { layer, shape, run, backend: `${backend.name}${backend.impl ? ` (${backend.impl})` : ''}`, attentionMs: performance.now() - t0 };
}

/** The kept pairs of one query head as an N×N 0/1 matrix (causal), for the overlay. */
export function headMaskOf(mask: SparseMask, shape: AttentionShape, head: number): Uint8Array {
  const { qLength, kvLength, qOffset } = shape;
  const out = new Uint8Array(qLength * kvLength);
  const row = new Uint8Array(kvLength);
  for (let i = 0; i < qLength; i++) {
    fillRowMembership(mask, head, i, qOffset, true, row);
    out.set(row, i * kvLength);
  }
  return out;
}

/**
 * Measures a run against the layer's dense oracle with `measureItem` and sums it the way `evaluateMethods` does:
 * per-head and per-layer density, recall (mean, min), output error and FLOPs, plus a fingerprint of the whole mask.
 */
export async function measureMethod(store: TraceStore, m: MethodRun): Promise<MethodResult> {
  const { oracle } = await store.oracle(m.layer);
  const { run, shape } = m;
  const t1 = performance.now();
  const measured = measureItem(oracle, run.mask, run.output);
  const t2 = performance.now();
  const estimatePerHead = run.stats.flops.estimate / shape.heads;
  const perHead: HeadMetrics[] = measured.map((hm) => ({
    head: hm.head,
    density: hm.densePairs === 0 ? 0 : hm.keptPairs / hm.densePairs,
    recallMean: hm.rows ? hm.recallSum / hm.rows : 1,
    recallMin: hm.recallMin,
    outputError: relativeError(hm.errorSquared, hm.normSquared),
    keptPairs: hm.keptPairs,
    densePairs: hm.densePairs,
    flopsEstimate: estimatePerHead,
    flopsAttend: attentionFlops(hm.keptPairs, shape.dim),
  }));
  const t = sumHeadMeasurements(measured);
  const summary: LayerSummary = {
    layer: m.layer,
    density: t.densePairs === 0 ? 0 : t.keptPairs / t.densePairs,
    recallMean: t.rows ? t.recallSum / t.rows : 1,
    recallMin: Number.isFinite(t.recallMin) ? t.recallMin : 1,
    outputError: relativeError(t.errorSquared, t.normSquared),
    flopsEstimate: run.stats.flops.estimate,
    flopsAttend: attentionFlops(t.keptPairs, shape.dim),
    flopsDense: attentionFlops(t.densePairs, shape.dim),
    estimateMs: run.stats.estimateMs,
    attendMs: run.stats.attendMs,
  };
  const maskHash = run.mask ? fnv1a(sparseMaskToDense(run.mask, shape, { causal: true })) : 'dense';
  const engineMs = { attention: m.attentionMs, measure: t2 - t1, hash: performance.now() - t2 };
  return { layer: m.layer, backend: m.backend, perHead, summary, maskHash, engineMs };
}
