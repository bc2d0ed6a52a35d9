import type { GpujsMode } from './runtime/modes.js';

/** Tolerance overrides of the conformance kit (a subset of its Tolerance, kept structural to avoid a dependency). */
export interface ModeTolerance {
  readonly atol?: number;
  readonly rtol?: number;
  readonly lseAtol?: number;
  readonly probAtol?: number;
  readonly quantizedRel?: number;
  readonly quantizedOutliers?: number;
}

export interface ModeConformance {
  readonly tolerance: ModeTolerance;
  readonly filters: { readonly excludes: readonly { readonly match: string | RegExp; readonly reason: string }[] };
}

/**
 * What each mode meets against the float64 reference, in one place (the README's table comes from here). Every mode
 * computes in fp32 (`precision: 'single'`), so the kit's FP32 tolerance is the starting point.
 */
export function modeConformance(mode: GpujsMode | string): ModeConformance {
  switch (mode) {
    default:
      return { tolerance: {}, filters: { excludes: [] } };
  }
}
