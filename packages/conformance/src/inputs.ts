import { type AttentionInput, type HeadTensor, randomHeadTensor } from '@sparseland/core';

/** The geometry of one conformance case. */
export interface CaseShape {
  readonly qHeads: number;
  readonly kvHeads: number;
  readonly qLength: number;
  readonly kvLength: number;
  readonly dim: number;
  readonly qOffset?: number;
}

/**
 * Seeded Q, K, V for a case. Q and K are scaled so logits have a spread of a few units: softmax rows are neither
 * flat nor one-hot, which is where kernels differ if they are wrong.
 */
export function caseInputs(shape: CaseShape, seed: number): AttentionInput & { q: HeadTensor; k: HeadTensor; v: HeadTensor } {
  const spread = Math.sqrt(2.5);
  const q = randomHeadTensor({ heads: shape.qHeads, length: shape.qLength, dim: shape.dim, seed, scale: spread });
  const k = randomHeadTensor({ heads: shape.kvHeads, length: shape.kvLength, dim: shape.dim, seed: seed + 101, scale: 1 });
  const v = randomHeadTensor({ heads: shape.kvHeads, length: shape.kvLength, dim: shape.dim, seed: seed + 202 });
  return shape.qOffset === undefined ? { q, k, v } : { q, k, v, qOffset: shape.qOffset };
}

/** The MaskShape of a case (query heads, lengths, resolved qOffset). */
export function maskShapeOf(shape: CaseShape): { heads: number; qLength: number; kvLength: number; qOffset: number } {
  return {
    heads: shape.qHeads,
    qLength: shape.qLength,
    kvLength: shape.kvLength,
    qOffset: shape.qOffset ?? Math.max(0, shape.kvLength - shape.qLength),
  };
}
