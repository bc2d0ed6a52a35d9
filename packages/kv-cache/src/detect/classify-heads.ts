import { type HeadTensor, type RecipeDocument, SparselandError } from '@sparseland/core';
import { describeValue } from '@sparseland/core/kit';

/** One layer's trace of a needle prompt: queries [Hq, tokens, dim] and keys [Hkv, tokens, dim], after RoPE. */
export interface LayerTrace {
  readonly q: HeadTensor;
  readonly k: HeadTensor;
}

/** A needle prompt's traces, one per layer, and the query rows that must retrieve the needle (e.g. the answer). */
export interface NeedleTrace {
  readonly layers: readonly LayerTrace[];
  readonly queryRows: readonly number[];
}

export interface ClassifyHeadsOptions {
  /** Tokens a streaming head keeps: the first `sink` and the newest `recent` (DuoAttention: 128 and 256). */
  readonly sink: number;
  readonly recent: number;
  /** Share of the kv heads made streaming, lowest retrieval score first (kvpress's head_compression_ratio). */
  readonly streamingFraction: number;
}

export interface HeadClassification {
  /** Per layer and kv head: mean attention mass the needle queries put outside the sink + recent window. */
  readonly scores: readonly (readonly number[])[];
  /** Per layer, the kv heads classified as streaming. */
  readonly streamingHeads: readonly (readonly number[])[];
}

/**
 * DuoAttention's split without training: on needle prompts, a head whose queries put much attention mass outside
 * the sink + recent window would lose it under streaming, so it is a retrieval head. Scores are averaged over the
 * prompts, the needle query rows and the query heads of each kv head; the `streamingFraction` of kv heads with the
 * lowest scores (over all layers) stream. The paper learns a gate per head by distillation on passkey data instead.
 */
export function classifyHeads(traces: readonly NeedleTrace[], options: ClassifyHeadsOptions): HeadClassification {
  if (!Array.isArray(traces) || traces.length === 0) {
    throw new SparselandError('E_PARAMS', `classifyHeads: traces must be a non-empty array of needle traces, got ${describeValue(traces)}`);
  }
  const { sink, recent, streamingFraction } = options;
  if (!(streamingFraction >= 0 && streamingFraction <= 1)) {
    throw new SparselandError('E_PARAMS', `classifyHeads: streamingFraction must be in [0, 1], got ${describeValue(streamingFraction)}`);
  }
  const layers = (traces[0] as NeedleTrace).layers.length;
  const kvHeads = (traces[0] as NeedleTrace).layers[0]?.k.heads ?? 0;
  const sums = Array.from({ length: layers }, () => new Float64Array(kvHeads));
  let rows = 0;
  for (const trace of traces) {
    if (trace.layers.length !== layers) {
      throw new SparselandError('E_PARAMS', `classifyHeads: every trace must have ${layers} layers, got ${trace.layers.length}`);
    }
    trace.layers.forEach(({ q, k }: LayerTrace, l: number) => {
      const d = q.dim;
      const group = q.heads / k.heads;
      for (const i of trace.queryRows) {
        if (!Number.isInteger(i) || i < 0 || i >= q.length) {
          throw new SparselandError('E_PARAMS', `classifyHeads: query row ${describeValue(i)} is outside the trace's ${q.length} tokens`);
        }
        // Query row i sits at position i (a whole prompt from position 0) and sees keys 0..i.
        for (let h = 0; h < q.heads; h++) {
          const g = Math.floor(h / group);
          const logits = new Float64Array(i + 1);
          let max = -Infinity;
          for (let j = 0; j <= i; j++) {
            let dot = 0;
            for (let c = 0; c < d; c++)
              dot += (q.data[(h * q.length + i) * d + c] as number) * (k.data[(g * k.length + j) * d + c] as number);
            logits[j] = dot / Math.sqrt(d);
            if ((logits[j] as number) > max) max = logits[j] as number;
          }
          let total = 0;
          let outside = 0;
          for (let j = 0; j <= i; j++) {
            const p = Math.exp((logits[j] as number) - max);
            total += p;
            if (j >= sink && j <= i - recent) outside += p;
          }
          (sums[l] as Float64Array)[g] = ((sums[l] as Float64Array)[g] as number) + outside / total / group;
        }
      }
    });
    rows += trace.queryRows.length;
  }
  const scores = sums.map((s) => Array.from(s, (x) => x / Math.max(1, rows)));
  const ranked = scores
    .flatMap((s, l) => s.map((score, g) => ({ l, g, score })))
    .sort((a, b) => a.score - b.score || a.l - b.l || a.g - b.g);
  const streaming = Array.from({ length: layers }, () => [] as number[]);
  for (const { l, g } of ranked.slice(0, Math.round(streamingFraction * ranked.length))) (streaming[l] as number[]).push(g);
  return { scores, streamingHeads: streaming.map((s) => s.sort((a, b) => a - b)) };
}

/**
 * A recipe that applies a head classification: dense attention, the full cache on retrieval heads and
 * streaming-llm (sink + recent) on streaming heads, per layer and kv head. Needs the kv-cache plugins registered.
 */
export function duoRecipe(streamingHeads: readonly (readonly number[])[], options: { sink: number; recent: number }): RecipeDocument {
  const layers: Record<string, { kvHeads: Record<string, { method: string; params: Record<string, unknown> }> }> = {};
  streamingHeads.forEach((heads, l) => {
    if (heads.length === 0) return;
    layers[String(l)] = {
      kvHeads: Object.fromEntries(
        heads.map((g) => [String(g), { method: 'streaming-llm', params: { budget: options.sink + options.recent, sink: options.sink } }]),
      ),
    };
  });
  return {
    description: 'DuoAttention heads: streaming-llm on streaming heads, the full cache on retrieval heads',
    default: { method: 'dense' },
    kv: { method: 'full-cache' },
    layers,
  };
}
