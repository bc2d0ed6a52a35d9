import { type Backend, createReferenceBackend } from '@sparseland/core';
import type { CaseFilters } from './filters.js';

/** A backend a suite runs on, under the name its tests carry (`cpu (wasm, 2 threads)`). */
export interface NamedBackend {
  readonly name: string;
  create(): Backend | Promise<Backend>;
}

/** Core's float64 reference backend: where plugins run by default, and what other backends are compared with. */
export const REFERENCE_BACKEND: NamedBackend = Object.freeze({ name: 'reference', create: () => createReferenceBackend() });

/**
 * The options every `describe*` of the kit takes, as `describeX(subject, options)`; each adds its own (tolerances,
 * parameter sets, shapes) to these.
 */
export interface ConformanceOptions {
  /** Cases to leave out, each with its written reason, or the only ones to run (src/filters.ts). */
  readonly filters?: CaseFilters;
  /**
   * The backends the subject's cases run on, each in its own block of tests. Default: core's float64 reference
   * backend for plugins, the plugin's own `create()` for a backend.
   */
  readonly backends?: readonly NamedBackend[];
}
