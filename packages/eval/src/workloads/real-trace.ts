import { type Backend, SparselandError } from '@sparseland/core';
import { describeValue, expectInteger } from '@sparseland/core/kit';
import { captureTraces } from '@sparseland/model';
import { WORKLOAD_LIMITS } from '../limits.js';
import {
  FIXTURE_DEFAULTS,
  type FixtureModelName,
  type FixtureTextName,
  type LoadedModel,
  loadFixtureModel,
  passageTokens,
  readFixtureText,
} from '../models/fixture-model.js';
import type { Workload, WorkloadItem } from './workload.js';

export interface RealTraceOptions {
  /** An embedded model by name, or any loaded model. */
  readonly model: FixtureModelName | LoadedModel;
  /** An embedded text by name, or any text (default: the model's book, see FIXTURE_DEFAULTS). */
  readonly text?: FixtureTextName | { readonly name: string; readonly content: string };
  /** Positions (tokens) to trace: default 2,048 for tinybooks-2k, 512 for stories260K (their trained contexts). */
  readonly positions?: number;
  /** Character offset into the text (default 0). */
  readonly offset?: number;
  /** Layers to keep (default: all). */
  readonly layers?: readonly number[];
  /** Where the tracing forward pass runs its (dense) attention (default: the float64 reference). */
  readonly backend?: Backend;
  readonly name?: string;
}

/**
 * Real attention inputs: runs a model densely over a passage and keeps each layer's Q, K (after RoPE) and V as one
 * item. Positions past the model's trained context are RoPE extrapolation; the description says so.
 */
export async function realTraceWorkload(options: RealTraceOptions): Promise<Workload> {
  if (typeof options !== 'object' || options === null) {
    throw new SparselandError('E_PARAMS', `realTraceWorkload: expected an options object, got ${describeValue(options)}`);
  }
  const model = typeof options.model === 'string' ? await loadFixtureModel(options.model) : options.model;
  const defaults = FIXTURE_DEFAULTS[model.name as FixtureModelName];
  const positions = expectInteger(
    options.positions ?? defaults?.positions ?? model.model.config.seqLen,
    'positions',
    1,
    WORKLOAD_LIMITS.length,
  );
  const offset = expectInteger(options.offset ?? 0, 'offset', 0);
  const c = model.model.config;
  const layerCount = options.layers?.length ?? c.layers;
  const traceValues = layerCount * (c.heads + 2 * c.kvHeads) * positions * c.headDim;
  if (traceValues > WORKLOAD_LIMITS.traceValues) {
    throw new SparselandError(
      'E_PARAMS',
      `a trace of ${positions} positions over ${layerCount} layers of ${model.name} holds ${traceValues} values, more than WORKLOAD_LIMITS.traceValues = ${WORKLOAD_LIMITS.traceValues}: trace fewer positions or layers`,
      { positions, layers: layerCount, traceValues },
    );
  }
  const textOption = options.text ?? defaults?.text ?? 'pride-and-prejudice';
  const text = typeof textOption === 'string' ? { name: textOption, content: await readFixtureText(textOption) } : textOption;
  const tokens = passageTokens(model, text.content, offset, positions);
  const trace = await captureTraces(model.model, tokens, { layers: options.layers, backend: options.backend });
  const items: WorkloadItem[] = trace.layers.map((l) => ({ layer: l.layer, q: l.q, k: l.k, v: l.v }));
  const extrapolated = trace.extrapolated ? `; positions past ${c.seqLen} are RoPE extrapolation` : '';
  return {
    name: options.name ?? `${model.name}:${text.name}@${offset}+${positions}`,
    description: `${model.name} traces over ${positions} tokens of ${text.name} from character ${offset}: ${items.length} layers × ${c.heads} query / ${c.kvHeads} kv heads, head dim ${c.headDim}${extrapolated}`,
    size: items.length,
    items,
  };
}
