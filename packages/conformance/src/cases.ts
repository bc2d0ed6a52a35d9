// Framework-free part of the kit: cases, inputs, tolerances and filters. Browser test pages import this entry
// (`@sparseland/conformance/cases`) because it does not import vitest.

export type { BackendCase, BackendOp } from './backend-cases.js';
export { allBackendCases, attendCases, decodeCases, estimatorOpCases } from './backend-cases.js';
export { scoresCases } from './scores-cases.js';
export type { EstimatorCase, EstimatorCaseOptions, EstimatorRun, EstimatorShape } from './estimator-cases.js';
export {
  checkEstimatorMask,
  DEFAULT_ESTIMATOR_SHAPES,
  estimatorCases,
  PLANTED_SHAPE,
  plantedInputs,
  randomMaskLike,
  runEstimator,
} from './estimator-cases.js';
export type { CaseExclusion, CaseFilters } from './filters.js';
export { exclusionReason } from './filters.js';
export type { CaseShape } from './inputs.js';
export { caseInputs, maskShapeOf } from './inputs.js';
export type { Tolerance } from './tolerance.js';
export { EXACT_TOLERANCE, FP32_TOLERANCE, firstMismatch } from './tolerance.js';
