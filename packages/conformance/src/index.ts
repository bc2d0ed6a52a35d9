// @sparseland/conformance: the describe* suites on vitest, and everything of the framework-free `./cases` entry.
export * from './cases.js';

// The suites: describeX(subject, { filters, backends, ... })
export type { DescribeBackendOptions } from './describe-backend.js';
export { describeBackend } from './describe-backend.js';
export type { DescribeEstimatorOptions } from './describe-estimator.js';
export { describeEstimator } from './describe-estimator.js';
export type { DescribePatternOptions } from './describe-pattern.js';
export { describePattern } from './describe-pattern.js';
export type { DescribeKvPolicyOptions } from './describe-kv-policy.js';
export { describeKvPolicy } from './describe-kv-policy.js';
