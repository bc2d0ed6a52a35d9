import type { EstimatorPlugin } from '@sparseland/core';
import { dma } from './estimators/dma.js';
import { seerAttention } from './estimators/seer-attention.js';
import { sparsifiner } from './estimators/sparsifiner.js';

/** Every estimator of this package, for `createRegistry({ plugins: [gateEstimators] })`. */
export const gateEstimators: readonly EstimatorPlugin[] = Object.freeze([seerAttention, sparsifiner, dma]);
