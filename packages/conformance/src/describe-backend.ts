import type { BackendPlugin } from '@sparseland/core';
import { allBackendCases, type BackendCase } from './backend-cases.js';
import type { ConformanceOptions } from './conformance-options.js';
import { describeSuite } from './describe-suite.js';
import { metadataCase } from './metadata-case.js';
import { FP32_TOLERANCE, type Tolerance } from './tolerance.js';

export interface DescribeBackendOptions extends ConformanceOptions {
  /** Tolerance overrides (default FP32_TOLERANCE), with the reason in the backend's own docs. */
  readonly tolerance?: Partial<Tolerance>;
  /** Replace the kit's cases (e.g. a subset for a second configuration); default allBackendCases(). */
  readonly cases?: readonly BackendCase[];
}

/**
 * Registers one vitest suite for a backend plugin: its metadata, then every Backend op against the float64
 * reference on each configuration in `backends` (default: the plugin's `create()` with default options): dense and
 * every mask form, odd sizes, GQA 4:1 and 2:1, head dims 8 and 64, qOffset, one-token decode, empty rows,
 * scoreMod, and the estimator ops. Excluded cases appear as skipped tests whose name carries the reason.
 */
export function describeBackend(plugin: BackendPlugin, options: DescribeBackendOptions = {}): void {
  const cases = options.cases ?? allBackendCases();
  const tolerance: Tolerance = { ...FP32_TOLERANCE, ...options.tolerance };
  describeSuite({
    title: `conformance: backend ${plugin.name}`,
    filters: options.filters,
    subjectCases: [metadataCase(plugin, 'backend')],
    backends: options.backends ?? [{ name: plugin.name, create: () => plugin.create() }],
    backendCases: () => cases.map((c) => ({ name: c.name, run: (backend) => c.run(backend, tolerance) })),
  });
}
