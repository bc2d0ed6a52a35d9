import { type Backend, type PreparedLinear, SparselandError } from '@sparseland/core';
import { describeValue } from '@sparseland/core/kit';
import type { LlamaWeights } from '../checkpoint/weights.js';

/** One layer's projections on a backend: q|k|v fused (one pass over x), the output projection, w1|w3 fused, w2. */
export interface LayerLinears {
  /** [dim + 2·kvDim] × dim: each output row is q, then k, then v. */
  readonly qkv: PreparedLinear;
  readonly wo: PreparedLinear;
  /** [2·hiddenDim] × dim: each output row is the gate (w1), then up (w3). */
  readonly w13: PreparedLinear;
  readonly w2: PreparedLinear;
}

export interface ModelLinears {
  readonly layers: readonly LayerLinears[];
  readonly classifier: PreparedLinear;
}

/** Rows of several (out × in) matrices stacked into one: their outputs side by side in one product. */
function stackRows(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * A model's weight matrices prepared on each backend that runs it, once per (model, backend): sessions on the same
 * backend share them, so a session costs no copy or packing of the weights. Fused matrices are built once per model.
 * The backend frees them when it is disposed (or when the model and its handles are collected).
 */
export class LinearCache {
  private readonly weights: LlamaWeights;
  private fused: { qkv: Float32Array; w13: Float32Array }[] | undefined;
  private readonly prepared = new WeakMap<Backend, Promise<ModelLinears>>();

  constructor(weights: LlamaWeights) {
    this.weights = weights;
  }

  /** The prepared matrices on `backend` (prepared at the first call). */
  of(backend: Backend): Promise<ModelLinears> {
    let entry = this.prepared.get(backend);
    if (!entry) {
      entry = this.prepare(backend);
      this.prepared.set(backend, entry);
      // A failed preparation (a disposed backend, say) is not cached: the next session tries again.
      entry.catch(() => this.prepared.delete(backend));
    }
    return entry;
  }

  private async prepare(backend: Backend): Promise<ModelLinears> {
    if (typeof backend.prepareLinear !== 'function') {
      throw new SparselandError(
        'E_PARAMS',
        `the model runtime needs a backend with prepareLinear and createKvStore (core's Backend), got ${describeValue(backend)} without prepareLinear`,
      );
    }
    const { config, layers } = this.weights;
    const { dim, hiddenDim, kvHeads, headDim, vocabSize } = config;
    const kvDim = kvHeads * headDim;
    this.fused ??= layers.map((w) => ({ qkv: stackRows([w.wq, w.wk, w.wv]), w13: stackRows([w.w1, w.w3]) }));
    const prepared: LayerLinears[] = [];
    for (const [l, w] of layers.entries()) {
      const fused = this.fused[l] as { qkv: Float32Array; w13: Float32Array };
      prepared.push({
        qkv: await backend.prepareLinear(fused.qkv, { outDim: dim + 2 * kvDim, inDim: dim }),
        wo: await backend.prepareLinear(w.wo, { outDim: dim, inDim: dim }),
        w13: await backend.prepareLinear(fused.w13, { outDim: 2 * hiddenDim, inDim: dim }),
        w2: await backend.prepareLinear(w.w2, { outDim: dim, inDim: hiddenDim }),
      });
    }
    const classifier = await backend.prepareLinear(this.weights.classifier, { outDim: vocabSize, inDim: dim });
    return { layers: prepared, classifier };
  }
}
