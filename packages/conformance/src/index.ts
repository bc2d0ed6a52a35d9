export * from './cases.js';
export type { DescribeBackendOptions } from './describe-backend.js';
export { describeBackend } from './describe-backend.js';
export type { DescribeEstimatorOptions } from './describe-estimator.js';
export { describeEstimator } from './describe-estimator.js';
export type { DescribePatternOptions } from './describe-pattern.js';
export { DEFAULT_PATTERN_SHAPES, describePattern } from './describe-pattern.js';
export type { DescribeKvPolicyOptions } from './describe-kv-policy.js';
export { describeKvPolicy } from './describe-kv-policy.js';
