import type { GpujsMode } from './runtime/modes.js';

/** Tolerance overrides of the conformance kit (a subset of its Tolerance, kept structural so src needs no kit). */
export interface ModeTolerance {
  readonly atol?: number;
  readonly rtol?: number;
  readonly lseAtol?: number;
  readonly probAtol?: number;
  readonly quantizedRel?: number;
  readonly quantizedOutliers?: number;
}

export interface ModeConformance {
  /** Overrides of the kit's FP32_TOLERANCE (empty: the kit's fp32 tolerance as it is). */
  readonly tolerance: ModeTolerance;
  /** Cases a mode cannot pass, each with its reason (empty: every case runs). */
  readonly filters: { readonly excludes: readonly { readonly match: string | RegExp; readonly reason: string }[] };
}

/**
 * What each mode meets against the float64 reference, in one place: the Node suites (cpu, webasm), the Chromium
 * suite (webgl2, webgpu on SwiftShader) and the GPU check script read it, and the README's table repeats it.
 *
 * Every mode computes in fp32 (`precision: 'single'`, fp32 accumulation, exp/log in fp32), and every mode measured
 * so far passes every case of the kit at its FP32_TOLERANCE (atol 2e-5, rtol 2e-4, lse 1e-4, probabilities 2e-6,
 * quantised scores 1e-4 of the head's largest with 0.2% boundary outliers) with no exclusion: scoreMod runs on the
 * host, and masks are evaluated into bitmaps on the host, so no case needs a JS function inside a kernel.
 * headlessgl could not be built here (no `gl`), and webgpu on a real GPU runs in the GPU check only; both get the
 * same fp32 tolerance until a measurement says otherwise.
 */
export function modeConformance(_mode: GpujsMode | string): ModeConformance {
  return { tolerance: {}, filters: { excludes: [] } };
}
