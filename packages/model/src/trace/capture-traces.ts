import { type Backend, type HeadTensor, SparselandError } from '@sparseland/core';
import { describeValue, expectInteger } from '@sparseland/core/kit';
import type { LlamaModel } from '../runtime/model.js';

/** One layer's attention inputs over the whole prompt. */
export interface LayerTrace {
  readonly layer: number;
  /** Queries after RoPE [heads, N, headDim]. */
  readonly q: HeadTensor;
  /** Keys after RoPE [kvHeads, N, headDim]. */
  readonly k: HeadTensor;
  /** Values [kvHeads, N, headDim]. */
  readonly v: HeadTensor;
  /** The dense attention output [heads, N, headDim] the forward pass used (before the output projection). */
  readonly output: HeadTensor;
}

export interface ModelTrace {
  readonly tokens: readonly number[];
  readonly layers: readonly LayerTrace[];
  /** True when the prompt runs past the trained context (positions ≥ seqLen use extrapolated RoPE). */
  readonly extrapolated: boolean;
}

export interface CaptureOptions {
  /** Layers to keep (default: all). */
  readonly layers?: readonly number[];
  /** Where the dense attention runs (default: the float64 reference). */
  readonly backend?: Backend;
}

/** Runs the prompt densely in one prefill and returns every chosen layer's Q, K (after RoPE) and V: real attention inputs. */
export async function captureTraces(model: LlamaModel, tokens: readonly number[], options: CaptureOptions = {}): Promise<ModelTrace> {
  if (typeof model?.createSession !== 'function') {
    throw new SparselandError('E_PARAMS', `captureTraces(): expected a model from createModel(), got ${describeValue(model)}`);
  }
  const layerCount = model.config.layers;
  const wanted = new Set(
    (options.layers ?? Array.from({ length: layerCount }, (_, l) => l)).map((l, i) =>
      expectInteger(l, `captureTraces(): layers[${i}]`, 0, layerCount - 1),
    ),
  );
  const captured: LayerTrace[] = [];
  const session = model.createSession({
    backend: options.backend,
    onLayer: ({ layer, q, k, v, output }) => {
      if (wanted.has(layer)) captured.push({ layer, q, k, v, output });
    },
  });
  try {
    await session.prefill(tokens);
    return { tokens: Array.from(tokens), layers: captured, extrapolated: session.extrapolating };
  } finally {
    await session.dispose();
  }
}
