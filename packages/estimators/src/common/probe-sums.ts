import type { AttentionShape } from '@sparseland/core';
import type { ScoreRows } from '@sparseland/core/kit';
import { addFlops } from './flops.js';

/**
 * Column ("vertical") and diagonal ("slash") sums of one query head's probe rows. Diagonal δ = qPos − kPos is stored
 * at `slash[δ + slashOrigin]`: δ ≥ 0 are the causal diagonals (0 the main one), negative δ exist only in
 * non-causal calls.
 */
export interface ProbeSums {
  readonly vertical: Float64Array;
  readonly slash: Float64Array;
  readonly slashOrigin: number;
  /** Probe rows summed. */
  readonly rows: number;
}

/** Sums the probe's softmax rows of query head h by column and by diagonal; returns the work in FLOPs too. */
export function probeSums(probe: ScoreRows, shape: AttentionShape, h: number): { sums: ProbeSums; flops: number } {
  const { kvLength, qOffset } = shape;
  const maxPos = qOffset + probe.rowStart + probe.rows - 1;
  const slashOrigin = kvLength - 1;
  const vertical = new Float64Array(kvLength);
  const slash = new Float64Array(slashOrigin + Math.max(0, maxPos) + 1);
  for (let r = 0; r < probe.rows; r++) {
    const base = (h * probe.rows + r) * kvLength;
    const pos = qOffset + probe.rowStart + r;
    for (let j = 0; j < kvLength; j++) {
      const p = probe.data[base + j] as number;
      if (p === 0) continue;
      vertical[j] = (vertical[j] as number) + p;
      const at = pos - j + slashOrigin;
      slash[at] = (slash[at] as number) + p;
    }
  }
  return { sums: { vertical, slash, slashOrigin, rows: probe.rows }, flops: addFlops(2 * probe.rows * kvLength) };
}
