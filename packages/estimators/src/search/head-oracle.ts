import { type AttentionShape, countKeptPairsPerHead, type HeadTensor, referenceAttention, type SparseMask } from '@sparseland/core';
import { createRng, fillRowMembership, referenceRowProbabilities } from '@sparseland/core/kit';
import type { CalibrationItem } from './calibration.js';

/** Exact (float64) softmax rows of the measured query rows of every head, and optionally the dense outputs. */
export interface HeadOracle {
  readonly shape: AttentionShape;
  readonly causal: boolean;
  readonly rows: readonly number[];
  /** [head][measured row][kvLength] probabilities. */
  readonly probs: Float32Array;
  /** [head][measured row][dim] dense outputs (when output error is measured). */
  readonly output: Float32Array | undefined;
}

/** What one mask does to each head of one item. */
export interface HeadScores {
  readonly density: Float64Array;
  readonly recall: Float64Array;
  /** Relative L2 output error over the measured rows; NaN when not measured. */
  readonly outputError: Float64Array;
}

/** Rows to measure: all when `count >= qLength`, else one seeded row per stratum, the last row always included. */
export function measuredRows(qLength: number, count: number, seed: number): number[] {
  if (count >= qLength) return Array.from({ length: qLength }, (_, i) => i);
  const rng = createRng(seed);
  const rows = new Set<number>([qLength - 1]);
  for (let s = 0; s < count; s++) {
    const lo = Math.floor((s * qLength) / count);
    const hi = Math.floor(((s + 1) * qLength) / count);
    rows.add(lo + rng.int(Math.max(1, hi - lo)));
  }
  return [...rows].sort((a, b) => a - b);
}

export function computeHeadOracle(
  item: CalibrationItem,
  shape: AttentionShape,
  rows: readonly number[],
  causal: boolean,
  withOutput: boolean,
): HeadOracle {
  const { heads, kvLength, dim } = shape;
  const probs = new Float32Array(heads * rows.length * kvLength);
  const row = new Float64Array(kvLength);
  for (let h = 0; h < heads; h++) {
    rows.forEach((i, r) => {
      referenceRowProbabilities(item, shape, h, i, { causal, scale: 1 / Math.sqrt(dim), scoreMod: undefined }, row);
      probs.set(row, (h * rows.length + r) * kvLength);
    });
  }
  let output: Float32Array | undefined;
  if (withOutput) {
    const dense = referenceAttention(item, { causal, checkFinite: false });
    output = gatherRows(dense.output, rows);
  }
  return { shape, causal, rows, probs, output };
}

/** Rows `rows` of every head of t: [head][rows.length][dim]. */
export function gatherRows(t: HeadTensor, rows: readonly number[]): Float32Array {
  const out = new Float32Array(t.heads * rows.length * t.dim);
  for (let h = 0; h < t.heads; h++) {
    rows.forEach((i, r) => {
      out.set(t.data.subarray((h * t.length + i) * t.dim, (h * t.length + i + 1) * t.dim), (h * rows.length + r) * t.dim);
    });
  }
  return out;
}

/** Density, recall and (given the sparse output of the measured rows) output error of a mask, per head. */
export function scoreHeads(oracle: HeadOracle, mask: SparseMask | undefined, sparseOutput?: Float32Array): HeadScores {
  const { shape, rows, probs, causal } = oracle;
  const { heads, kvLength, dim } = shape;
  const pairs = countKeptPairsPerHead(mask, shape, { causal });
  const density = new Float64Array(heads);
  const recall = new Float64Array(heads);
  const outputError = new Float64Array(heads).fill(Number.NaN);
  const keep = new Uint8Array(kvLength);
  for (let h = 0; h < heads; h++) {
    density[h] = pairs.densePerHead === 0 ? 0 : (pairs.kept[h] as number) / pairs.densePerHead;
    let sum = 0;
    rows.forEach((i, r) => {
      const base = (h * rows.length + r) * kvLength;
      if (mask === undefined) {
        sum += 1;
        return;
      }
      fillRowMembership(mask, h, i, shape.qOffset, causal, keep);
      let mass = 0;
      for (let j = 0; j < kvLength; j++) if (keep[j]) mass += probs[base + j] as number;
      sum += mass;
    });
    recall[h] = rows.length ? sum / rows.length : 1;
    if (sparseOutput && oracle.output) {
      let err = 0;
      let norm = 0;
      for (let p = h * rows.length * dim; p < (h + 1) * rows.length * dim; p++) {
        const want = oracle.output[p] as number;
        err += ((sparseOutput[p] as number) - want) ** 2;
        norm += want * want;
      }
      outputError[h] = norm === 0 ? (err === 0 ? 0 : Infinity) : Math.sqrt(err / norm);
    }
  }
  return { density, recall, outputError };
}
