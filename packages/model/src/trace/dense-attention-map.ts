import { SparselandError } from '@sparseland/core';
import { describeValue, expectInteger, referenceRowProbabilities } from '@sparseland/core/kit';
import type { LayerTrace } from './capture-traces.js';

export interface AttentionMapOptions {
  /** Query rows to compute (default: all N). */
  readonly rows?: readonly number[];
}

/**
 * The exact causal softmax of one query head over every key of a captured layer, in float64, returned as float32:
 * [rows.length × N], row r holding query `rows[r]` (entries past the query are 0). Computed on demand because a
 * full map is N² values per head.
 */
export function denseAttentionMap(trace: LayerTrace, head: number, options: AttentionMapOptions = {}): Float32Array {
  if (typeof trace !== 'object' || trace === null || !trace.q || !trace.k) {
    throw new SparselandError('E_PARAMS', `denseAttentionMap(): expected a layer of captureTraces(), got ${describeValue(trace)}`);
  }
  const { q, k, v } = trace;
  expectInteger(head, 'denseAttentionMap(): head', 0, q.heads - 1);
  const n = k.length;
  const rows = options.rows ?? Array.from({ length: q.length }, (_, i) => i);
  rows.forEach((r, i) => {
    expectInteger(r, `denseAttentionMap(): rows[${i}]`, 0, q.length - 1);
  });
  const shape = { heads: q.heads, kvHeads: k.heads, qLength: q.length, kvLength: n, dim: q.dim, qOffset: n - q.length };
  const out = new Float32Array(rows.length * n);
  const row = new Float64Array(n);
  const opts = { causal: true, scale: 1 / Math.sqrt(q.dim) };
  rows.forEach((i, r) => {
    referenceRowProbabilities({ q, k, v }, shape, head, i, opts, row);
    out.set(row, r * n);
  });
  return out;
}
