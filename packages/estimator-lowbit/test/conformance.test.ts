// Both estimators through the public conformance kit: defaults and small settings on the kit's odd shapes, and a
// sparse, better-than-random mask on its planted input (n = 512, 16×16 blocks).
import { describeEstimator } from '@sparseland/conformance';
import { paro, sale } from '../src/index.js';

describeEstimator(sale, {
  paramSets: [
    { localWindow: 4, sinkBlocks: 1, threshold: 0.01 },
    { localWindow: 8, sinkBlocks: 0, bits: 8, scales: 'group' },
    { localWindow: 4, threshold: 0 },
  ],
  plantedParams: { localWindow: 16, threshold: 0.01 },
});
describeEstimator(paro, {
  paramSets: [{ coverage: 0.5 }, { coverage: 0.7, bits: 8 }],
  plantedParams: { coverage: 0.6 },
});
