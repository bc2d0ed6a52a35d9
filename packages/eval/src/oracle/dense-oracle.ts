import type { AttentionInput, AttentionShape } from '@sparseland/core';
import { referenceRowProbabilities, resolveScale } from '@sparseland/core/kit';

/**
 * Exact dense attention (float64) of one item at the measured rows, computed once and shared by every method:
 * the softmax probabilities of each (head, row) over all keys, and the dense output row.
 */
export interface DenseOracle<Output extends Float64Array | undefined = Float64Array> {
  readonly shape: AttentionShape;
  readonly causal: boolean;
  /** Measured query rows (indices into q), sorted. */
  readonly rows: readonly number[];
  /** Probabilities `[head][rowIndex][key]` (rowIndex indexes `rows`). Float32: recall needs no more. */
  readonly probs: Float32Array;
  /** Dense outputs `[head][rowIndex][dim]` in float64; undefined when not asked for (recall only). */
  readonly output: Output;
}

/**
 * The oracle of `input` at `rows`. `withOutput: false` skips the dense outputs (half the work) when only recall is
 * measured, as the recipe search does by default.
 */
export function computeDenseOracle(
  input: AttentionInput,
  shape: AttentionShape,
  rows: readonly number[],
  causal: boolean,
  withOutput?: true,
): DenseOracle;
export function computeDenseOracle(
  input: AttentionInput,
  shape: AttentionShape,
  rows: readonly number[],
  causal: boolean,
  withOutput: boolean,
): DenseOracle<Float64Array | undefined>;
export function computeDenseOracle(
  input: AttentionInput,
  shape: AttentionShape,
  rows: readonly number[],
  causal: boolean,
  withOutput = true,
): DenseOracle<Float64Array | undefined> {
  const { heads, kvHeads, kvLength, dim } = shape;
  const scale = resolveScale(undefined, dim);
  const probs = new Float32Array(heads * rows.length * kvLength);
  const output = withOutput ? new Float64Array(heads * rows.length * dim) : undefined;
  const row = new Float64Array(kvLength);
  const v = input.v.data;
  for (let h = 0; h < heads; h++) {
    const g = Math.floor(h / (heads / kvHeads));
    for (let r = 0; r < rows.length; r++) {
      referenceRowProbabilities(input, shape, h, rows[r] as number, { causal, scale }, row);
      const at = (h * rows.length + r) * kvLength;
      probs.set(row, at);
      if (output === undefined) continue;
      const o = (h * rows.length + r) * dim;
      for (let j = 0; j < kvLength; j++) {
        const p = row[j] as number;
        if (p === 0) continue;
        const vBase = (g * kvLength + j) * dim;
        for (let c = 0; c < dim; c++) output[o + c] = (output[o + c] as number) + p * (v[vBase + c] as number);
      }
    }
  }
  return { shape, causal, rows, probs, output };
}
