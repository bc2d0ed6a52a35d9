// @sparseland/estimator-lowbit: low-bit estimation (SALE) and pattern-aware reordering (PAROAttention).

// Estimators
export { sale, saleParams, type SaleParams } from './estimators/sale.js';
export { paro } from './estimators/paro.js';
export { lowbitEstimators } from './all.js';

// Offline calibration
export { type CalibrateSaleOptions, type CalibrationItem, calibrateSale, saleRecipe } from './calibration/calibrate-sale.js';
export {
  type ChoosePermutationsOptions,
  choosePermutations,
  paroRecipe,
  type PermutationChoice,
} from './calibration/choose-permutations.js';
export { paroAttention, type ParoAttentionOptions } from './paro-attention.js';
export { stridePermutation } from './permutation.js';

export { PAPERS } from './papers.js';
