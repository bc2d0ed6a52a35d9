import type { MethodRecipe } from '@sparseland/core';

/**
 * A candidate grid for `searchRecipe` in the spirit of MInference's kernel-aware search: vertical-slash sizes at a
 * few fractions of the sequence (never below MInference's floor of 30 columns and 50 diagonals), FlexPrefill
 * coverages (default tau, and tau = 1: every head query-aware), block top-k budgets, and dense. Sizes scale with
 * `length` (the calibration sequence length) so the grid spans densities from a few percent to dense at any length;
 * sizes that coincide at short lengths appear once. The methods are `@sparseland/estimators`' (register them).
 */
export function defaultCandidates(length: number): MethodRecipe[] {
  const out: MethodRecipe[] = [];
  const seen = new Set<string>();
  const frac = (f: number, floor: number) => Math.max(floor, Math.round(length * f));
  for (const slashFraction of [1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4]) {
    for (const vertical of [30, frac(1 / 16, 30)]) {
      const params = { vertical, slash: frac(slashFraction, 50) };
      const key = JSON.stringify(params);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ method: 'vertical-slash', params });
    }
  }
  for (const gamma of [0.8, 0.9, 0.95, 0.98]) out.push({ method: 'flexprefill', params: { gamma } });
  for (const gamma of [0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999]) out.push({ method: 'flexprefill', params: { gamma, tau: 1 } });
  for (const topK of [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96]) out.push({ method: 'block-topk', params: { topK } });
  out.push({ method: 'dense' });
  return out;
}
