import type { Backend } from '@sparseland/core';
import { afterAll, beforeAll, describe as vitestDescribe, it as vitestIt } from 'vitest';
import { allBackendCases, type BackendCase } from './backend-cases.js';
import { type CaseFilters, exclusionReason } from './filters.js';
import { FP32_TOLERANCE, type Tolerance } from './tolerance.js';

export interface DescribeBackendOptions {
  /** Suite name suffix, e.g. `cpu (wasm, 2 threads)`. Default: the backend's name. */
  readonly name?: string;
  readonly filters?: CaseFilters;
  /** Tolerance overrides (default FP32_TOLERANCE). */
  readonly tolerance?: Partial<Tolerance>;
  /** Replace the kit's cases (e.g. a larger set); default allBackendCases(). */
  readonly cases?: readonly BackendCase[];
}

/**
 * Registers one vitest suite that runs every Backend op against the float64 reference: dense and every mask
 * form, odd sizes, GQA 4:1 and 2:1, head dims 8 and 64, qOffset, one-token decode, empty rows, scoreMod, and the
 * estimator ops. Excluded cases appear as skipped tests whose name carries the reason.
 */
export function describeBackend(factory: () => Promise<Backend> | Backend, options: DescribeBackendOptions = {}): void {
  const cases = options.cases ?? allBackendCases();
  const tolerance: Tolerance = { ...FP32_TOLERANCE, ...options.tolerance };
  vitestDescribe(`conformance: backend ${options.name ?? ''}`.trimEnd(), () => {
    let backend: Backend | undefined;
    beforeAll(async () => {
      backend = await factory();
    });
    afterAll(async () => {
      await backend?.dispose();
    });
    for (const c of cases) {
      const reason = exclusionReason(c.name, options.filters);
      if (reason !== undefined) {
        vitestIt.skip(`${c.name} (excluded: ${reason})`, () => {});
        continue;
      }
      vitestIt(c.name, async () => {
        if (!backend) throw new Error('backend factory failed');
        await c.run(backend, tolerance);
      });
    }
  });
}
