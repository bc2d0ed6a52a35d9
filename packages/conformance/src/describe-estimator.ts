import { type Backend, type EstimatorPlugin, referenceBackend } from '@sparseland/core';
import { afterAll, beforeAll, describe as vitestDescribe, it as vitestIt } from 'vitest';
import { type EstimatorCaseOptions, estimatorCases } from './estimator-cases.js';

export interface DescribeEstimatorOptions extends EstimatorCaseOptions {
  /** Where the estimator's heavy ops run (default: core's float64 reference backend). */
  readonly backend?: () => Backend | Promise<Backend>;
}

/**
 * Registers a vitest suite for an estimator plugin: metadata and params schema; on odd shapes (GQA, chunked queries,
 * one-token decode, non-causal) and every parameter set a valid mask with the recipe's block sizes that is causal
 * when asked, deterministic for a seed, reports finite FLOPs and runs through the reference attention; and on
 * planted structure a recall that beats a random mask of the same density.
 */
export function describeEstimator(plugin: EstimatorPlugin, options: DescribeEstimatorOptions = {}): void {
  const cases = estimatorCases(plugin, options);
  vitestDescribe(`conformance: estimator ${plugin.name}`, () => {
    let backend: Backend | undefined;
    beforeAll(async () => {
      backend = options.backend ? await options.backend() : await referenceBackend.create({});
    });
    afterAll(async () => {
      await backend?.dispose();
    });
    for (const c of cases) {
      vitestIt(c.name, async () => {
        if (!backend) throw new Error('backend factory failed');
        await c.run(backend);
      });
    }
  });
}
