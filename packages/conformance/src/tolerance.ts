/**
 * Tolerances of the conformance kit, in one place. A backend that needs looser ones (a GPU mode on software
 * rendering, say) passes its own through `describeBackend(plugin, { tolerance })` and documents why; so does an
 * estimator whose decisions sit on near-ties through `describeEstimator(plugin, { tolerance })`.
 */
export interface Tolerance {
  /** |actual − expected| ≤ atol + rtol·|expected| for attention outputs and pooled scores. */
  readonly atol: number;
  readonly rtol: number;
  /** Absolute tolerance on log-sum-exp values. */
  readonly lseAtol: number;
  /** Absolute tolerance on probabilities (lastQueriesAttention; times the rows summed for lastQueriesSums). */
  readonly probAtol: number;
  /**
   * Quantised scores: error relative to the largest |score| of the head; a fraction `quantizedOutliers` of entries
   * may exceed it, because float32 and float64 can round a value sitting on a quantisation boundary differently.
   */
  readonly quantizedRel: number;
  readonly quantizedOutliers: number;
  /** Linear layers: |y − y_ref| ≤ linearRel · Σ_j |x_j·w_j| (the scale of a float32 sum's rounding error). */
  readonly linearRel: number;
}

/** What fp32 kernels with fp32 accumulation meet against the float64 reference on the kit's inputs. */
export const FP32_TOLERANCE: Tolerance = Object.freeze({
  atol: 2e-5,
  rtol: 2e-4,
  lseAtol: 1e-4,
  probAtol: 2e-6,
  quantizedRel: 1e-4,
  quantizedOutliers: 0.002,
  linearRel: 1e-5,
});

/** The float64 reference compared with itself: only summation order may differ. */
export const EXACT_TOLERANCE: Tolerance = Object.freeze({
  atol: 1e-9,
  rtol: 1e-9,
  lseAtol: 1e-9,
  probAtol: 1e-12,
  quantizedRel: 1e-9,
  quantizedOutliers: 0,
  linearRel: 1e-12,
});

/**
 * How far an estimator's decisions on another backend may be from its decisions on the float64 reference, on the
 * kit's planted input with the estimator's planted parameters. Backends compute scores in fp32, so near-ties
 * (two key blocks with scores equal to about 1e-6) may fall the other way; the kept fraction and the attention
 * mass kept may therefore move a little, but the estimation work is decided by shapes and parameters alone.
 */
export interface DecisionTolerance {
  /** |density on the backend − density on the reference| (kept pairs over causal pairs). */
  readonly density: number;
  /** |mean attention recall on the backend − on the reference| over the case's sampled rows. */
  readonly recall: number;
  /** |FLOPs on the backend − on the reference| / FLOPs on the reference (0: the same count). */
  readonly flopsRel: number;
}

/** What every built-in estimator meets on the cpu backend (fp32 kernels over worker threads). */
export const DECISION_TOLERANCE: DecisionTolerance = Object.freeze({ density: 0.02, recall: 0.02, flopsRel: 0 });

/** First mismatch of `actual` vs `expected` under atol/rtol, as a message; undefined when all match. */
export function firstMismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol: number,
  label: string,
): string | undefined {
  if (actual.length !== expected.length) return `${label}: length ${actual.length}, expected ${expected.length}`;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (a === e) continue;
    if (!Number.isFinite(e) || !Number.isFinite(a)) return `${label}[${i}] = ${a}, expected ${e}`;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst < 0) return undefined;
  return `${label}[${worst}] = ${actual[worst]}, expected ${expected[worst]} (|diff| ${Math.abs((actual[worst] as number) - (expected[worst] as number)).toExponential(2)} > atol ${atol} + rtol ${rtol}·|expected|)`;
}
