import { createRng } from '@sparseland/core/kit';

/**
 * Default number of query rows measured per item: all rows while heads·rows·kvLength stays under a 24M-value budget
 * (about 96 MB of cached probabilities), else as many as fit, but never fewer than 32.
 */
export function defaultRowCount(heads: number, qLength: number, kvLength: number): number {
  return Math.min(qLength, Math.max(32, Math.floor(24_000_000 / (heads * kvLength))));
}

/**
 * The query rows to measure: every row when `count >= qLength`, else `count` rows spread evenly over the sequence
 * (one seeded row per stratum, so early and late rows are both represented), plus the `required` rows (needles).
 * Sorted, distinct.
 */
export function sampleRows(qLength: number, count: number, seed: number, required: readonly number[] = []): number[] {
  const rows = new Set<number>();
  if (count >= qLength) {
    for (let i = 0; i < qLength; i++) rows.add(i);
  } else {
    const rng = createRng(seed);
    for (let s = 0; s < count; s++) {
      const lo = Math.floor((s * qLength) / count);
      const hi = Math.floor(((s + 1) * qLength) / count);
      rows.add(lo + rng.int(Math.max(1, hi - lo)));
    }
  }
  for (const r of required) rows.add(r);
  return [...rows].sort((a, b) => a - b);
}
