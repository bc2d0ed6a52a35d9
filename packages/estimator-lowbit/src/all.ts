import type { EstimatorPlugin } from '@sparseland/core';
import { paro } from './estimators/paro.js';
import { sale } from './estimators/sale.js';

/** Every estimator of this package, for `createRegistry({ plugins: [lowbitEstimators] })`. */
export const lowbitEstimators: readonly EstimatorPlugin[] = Object.freeze([sale, paro]);
