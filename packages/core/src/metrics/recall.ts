import { SparselandError } from '../errors.js';
import type { ScoreMod } from '../masks/mask-mod.js';
import { type AttentionMask, fillRowMembership, toSparseMask } from '../masks/sparse-mask.js';
import { referenceRowProbabilities, resolveScale } from '../reference/reference-attention.js';
import { type AttentionInput, resolveAttentionShape } from '../tensor/shape.js';

export interface RecallOptions {
  readonly causal?: boolean;
  readonly scale?: number;
  readonly scoreMod?: ScoreMod;
  /** Query rows to measure (default: all). Long sequences can sample rows to bound the O(rows·N·d) cost. */
  readonly rows?: readonly number[];
  readonly checkFinite?: boolean;
}

export interface RecallResult {
  /** Mean over measured (head, row) pairs of the dense softmax mass the mask keeps. */
  readonly mean: number;
  /** The smallest such mass. */
  readonly min: number;
  /** Mean per query head. */
  readonly perHead: Float64Array;
  /** [head][measured row] masses. */
  readonly perRow: Float64Array;
  readonly rows: readonly number[];
}

/**
 * Attention recall: for each query row, the fraction of the exact (dense, float64) softmax mass that falls on pairs
 * the mask keeps. 1 for the full mask. Every method's budget (FlexPrefill's gamma, SeerAttention's threshold) is a
 * budget on this quantity.
 */
export function attentionRecall(input: AttentionInput, mask: AttentionMask, options: RecallOptions = {}): RecallResult {
  const shape = resolveAttentionShape(input, options);
  const sparse = toSparseMask(mask, shape);
  const causal = options.causal ?? true;
  const scale = resolveScale(options.scale, shape.dim);
  const rows = options.rows ?? Array.from({ length: shape.qLength }, (_, i) => i);
  for (const r of rows) {
    if (!Number.isInteger(r) || r < 0 || r >= shape.qLength) {
      throw new SparselandError('E_PARAMS', `recall rows must be integers in [0, ${shape.qLength}), got ${r}`);
    }
  }
  const probs = new Float64Array(shape.kvLength);
  const keep = new Uint8Array(shape.kvLength);
  const perRow = new Float64Array(shape.heads * rows.length);
  const perHead = new Float64Array(shape.heads);
  let sum = 0;
  let min = Infinity;
  for (let h = 0; h < shape.heads; h++) {
    let headSum = 0;
    rows.forEach((i, r) => {
      referenceRowProbabilities(input, shape, h, i, { causal, scale, scoreMod: options.scoreMod }, probs);
      fillRowMembership(sparse, h, i, shape.qOffset, causal, keep);
      let mass = 0;
      for (let j = 0; j < shape.kvLength; j++) if (keep[j]) mass += probs[j] as number;
      perRow[h * rows.length + r] = mass;
      headSum += mass;
      if (mass < min) min = mass;
    });
    perHead[h] = rows.length ? headSum / rows.length : 0;
    sum += headSum;
  }
  const n = shape.heads * rows.length;
  return { mean: n ? sum / n : 0, min: n ? min : 0, perHead, perRow, rows };
}

/** Relative L2 error ‖a − b‖ / ‖b‖ (b is the dense reference); 0 when both are zero. */
export function outputError(actual: { data: Float32Array } | Float32Array, expected: { data: Float32Array } | Float32Array): number {
  const a = actual instanceof Float32Array ? actual : actual.data;
  const b = expected instanceof Float32Array ? expected : expected.data;
  if (a.length !== b.length) throw new SparselandError('E_SHAPE', `outputError: outputs differ in size (${a.length} vs ${b.length})`);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    diff += d * d;
    norm += (b[i] as number) ** 2;
  }
  if (norm === 0) return diff === 0 ? 0 : Infinity;
  return Math.sqrt(diff / norm);
}
