import type { EstimatorPlugin } from '@sparseland/core';
import { type ConformanceOptions, REFERENCE_BACKEND } from './conformance-options.js';
import { describeSuite } from './describe-suite.js';
import { type EstimatorAgreementOptions, estimatorAgreementCases } from './estimator-agreement-cases.js';
import { type EstimatorCaseOptions, estimatorCases } from './estimator-cases.js';
import { metadataCase } from './metadata-case.js';

export interface DescribeEstimatorOptions extends ConformanceOptions, EstimatorCaseOptions {
  /** How far decisions on another backend may be from the reference's (default DECISION_TOLERANCE). */
  readonly tolerance?: EstimatorAgreementOptions['tolerance'];
}

/**
 * Registers a vitest suite for an estimator plugin: metadata and params schema; then on each backend in
 * `backends` (default: core's float64 reference backend), on odd shapes (GQA, chunked queries, one-token decode,
 * non-causal) and every parameter set, a valid mask with the recipe's block sizes that is causal when asked,
 * deterministic for a seed, reports finite FLOPs and runs through the reference attention; on planted structure a
 * recall that beats a random mask of the same density; and on every backend other than the reference the
 * reference backend's decisions (density, recall, FLOPs within DECISION_TOLERANCE).
 */
export function describeEstimator(plugin: EstimatorPlugin, options: DescribeEstimatorOptions = {}): void {
  const onBackend = estimatorCases(plugin, options);
  const agreement = estimatorAgreementCases(plugin, options);
  describeSuite({
    title: `conformance: estimator ${plugin.name}`,
    filters: options.filters,
    subjectCases: [metadataCase(plugin, 'estimator')],
    backends: options.backends ?? [REFERENCE_BACKEND],
    backendCases: (named) => (named === REFERENCE_BACKEND ? onBackend : [...onBackend, ...agreement]),
  });
}
