import { type AttentionShape, countKeptPairsPerHead, type HeadTensor, type SparseMask, sparseMaskContains } from '@sparseland/core';
import { fillRowMembership } from '@sparseland/core/kit';
import type { DenseOracle } from '../oracle/dense-oracle.js';
import type { Needle } from '../workloads/workload.js';

/** What one method did to one head of one item. */
export interface HeadMeasurement {
  readonly head: number;
  /** Kept pairs and the pairs dense attention computes (the causal triangle when causal). */
  readonly keptPairs: number;
  readonly densePairs: number;
  /** Recall summed over measured rows (divide by `rows` for the mean), and its minimum. */
  readonly recallSum: number;
  readonly recallMin: number;
  readonly rows: number;
  /**
   * Squared L2 distance to the dense output and squared L2 norm of the dense output, over measured rows; NaN when
   * the output is not measured (no method output, or an oracle without outputs).
   */
  readonly errorSquared: number;
  readonly normSquared: number;
  readonly needles: number;
  readonly needleHits: number;
}

/**
 * Measures a method's mask and output against the dense oracle, per query head: density, recall on the measured
 * rows (dense softmax mass the mask keeps), output error on the same rows, and needle hits (is the needle pair kept).
 * Without an `output` (or an oracle without outputs) only the mask is measured.
 */
export function measureItem(
  oracle: DenseOracle<Float64Array | undefined>,
  mask: SparseMask | undefined,
  output: HeadTensor | undefined,
  needles: readonly Needle[] = [],
): HeadMeasurement[] {
  const shape: AttentionShape = oracle.shape;
  const { heads, kvLength, qLength, dim, qOffset } = shape;
  const { rows, probs, causal } = oracle;
  const pairs = countKeptPairsPerHead(mask, shape, { causal });
  const keep = new Uint8Array(kvLength);
  const want = output === undefined ? undefined : oracle.output;
  const out: HeadMeasurement[] = [];
  for (let h = 0; h < heads; h++) {
    let recallSum = 0;
    let recallMin = Infinity;
    let errorSquared = 0;
    let normSquared = 0;
    for (let r = 0; r < rows.length; r++) {
      const i = rows[r] as number;
      const at = (h * rows.length + r) * kvLength;
      let mass = 0;
      if (mask === undefined) {
        for (let j = 0; j < kvLength; j++) mass += probs[at + j] as number;
      } else {
        fillRowMembership(mask, h, i, qOffset, causal, keep);
        for (let j = 0; j < kvLength; j++) if (keep[j]) mass += probs[at + j] as number;
      }
      recallSum += mass;
      if (mass < recallMin) recallMin = mass;
      if (want === undefined || output === undefined) continue;
      const o = (h * rows.length + r) * dim;
      const s = (h * qLength + i) * dim;
      for (let c = 0; c < dim; c++) {
        const w = want[o + c] as number;
        const d = (output.data[s + c] as number) - w;
        errorSquared += d * d;
        normSquared += w * w;
      }
    }
    let count = 0;
    let hits = 0;
    for (const needle of needles) {
      if (needle.head !== h) continue;
      count++;
      const qPos = qOffset + needle.qRow;
      const causalOk = !causal || needle.key <= qPos;
      if (causalOk && (mask === undefined || sparseMaskContains(mask, h, qPos, needle.key))) hits++;
    }
    out.push({
      head: h,
      keptPairs: pairs.kept[h] as number,
      densePairs: pairs.densePerHead,
      recallSum,
      recallMin: rows.length ? recallMin : 1,
      rows: rows.length,
      errorSquared: want === undefined ? Number.NaN : errorSquared,
      normSquared: want === undefined ? Number.NaN : normSquared,
      needles: count,
      needleHits: hits,
    });
  }
  return out;
}

/** The totals of several heads' measurements (sums, and the minimum recall: Infinity when there are none). */
export type HeadTotals = Omit<HeadMeasurement, 'head'>;

export function sumHeadMeasurements(measured: readonly HeadMeasurement[]): HeadTotals {
  const t = {
    keptPairs: 0,
    densePairs: 0,
    recallSum: 0,
    recallMin: Infinity,
    rows: 0,
    errorSquared: 0,
    normSquared: 0,
    needles: 0,
    needleHits: 0,
  };
  for (const hm of measured) {
    t.keptPairs += hm.keptPairs;
    t.densePairs += hm.densePairs;
    t.recallSum += hm.recallSum;
    t.recallMin = Math.min(t.recallMin, hm.recallMin);
    t.rows += hm.rows;
    t.errorSquared += hm.errorSquared;
    t.normSquared += hm.normSquared;
    t.needles += hm.needles;
    t.needleHits += hm.needleHits;
  }
  return t;
}

/** ‖a − b‖ / ‖b‖ from the squared distance and squared norm: 0 when both are 0, Infinity for a zero reference. */
export function relativeError(errorSquared: number, normSquared: number): number {
  if (normSquared === 0) return errorSquared === 0 ? 0 : Infinity;
  return Math.sqrt(errorSquared / normSquared);
}
