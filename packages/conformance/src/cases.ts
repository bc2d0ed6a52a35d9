// Framework-free part of the kit: cases, inputs, tolerances, filters and a runner. Browser test pages import this
// entry (`@sparseland/conformance/cases`) because it does not import vitest.

// Cases and running them
export type { CaseOutcome, OnBackendCase, PluginCase } from './case.js';
export { runCases } from './case.js';
export type { ConformanceOptions, NamedBackend } from './conformance-options.js';
export { REFERENCE_BACKEND } from './conformance-options.js';
export type { CaseExclusion, CaseFilters } from './filters.js';
export { exclusionReason } from './filters.js';
export { METADATA_CASE_NAME, metadataCase } from './metadata-case.js';
export type { BudgetProbe } from './budget-case.js';
export { BUDGET_CASE_NAME, budgetDirectionCase } from './budget-case.js';

// Backends
export type { BackendCase, BackendOp } from './backend-cases.js';
export { allBackendCases, attendCases, decodeCases, estimatorOpCases } from './backend-cases.js';
export { kvStoreCases, linearCases } from './model-op-cases.js';
export { scoresCases } from './scores-cases.js';

// Patterns
export type { PatternCaseOptions, PatternRunShape } from './pattern-cases.js';
export {
  DEFAULT_PATTERN_BLOCK_SIZES,
  DEFAULT_PATTERN_RUN_SHAPES,
  DEFAULT_PATTERN_SHAPES,
  patternBackendCases,
  patternCases,
} from './pattern-cases.js';

// Estimators
export type { EstimatorCaseOptions, EstimatorRun, EstimatorRunOptions, EstimatorShape } from './estimator-cases.js';
export {
  checkEstimatorMask,
  DEFAULT_ESTIMATOR_SHAPES,
  estimatorCases,
  PLANTED_SHAPE,
  plantedInputs,
  randomMaskLike,
  runEstimator,
} from './estimator-cases.js';
export type { EstimatorAgreementOptions } from './estimator-agreement-cases.js';
export { estimatorAgreementCases } from './estimator-agreement-cases.js';

// Packed KV decode (every backend) and KV policies
export type { PackedDecodeCase, PackedHeadSpec } from './packed-decode-cases.js';
export { packedCacheInput, packedDecodeCases } from './packed-decode-cases.js';
export type { KvPolicyCase, KvPolicyCaseOptions, KvPolicyInputs, KvPolicyRecord, KvPolicyShape } from './kv-policy-cases.js';
export {
  DEFAULT_KV_POLICY_SHAPES,
  kvPolicyBackendCases,
  kvPolicyCases,
  kvPolicyHooks,
  kvPolicyInputs,
  runKvPolicy,
} from './kv-policy-cases.js';

// Inputs and tolerances
export type { CaseShape } from './inputs.js';
export { caseInputs, maskShapeOf } from './inputs.js';
export type { DecisionTolerance, Tolerance } from './tolerance.js';
export { DECISION_TOLERANCE, EXACT_TOLERANCE, FP32_TOLERANCE, firstMismatch } from './tolerance.js';
