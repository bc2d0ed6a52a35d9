// The three gates through the public conformance kit. Without weights each runs as its untrained gate (the kit's
// shapes are not a trained model's); trained weights are checked on real traces in test/trained-gate.test.ts.
import { describeEstimator } from '@sparseland/conformance';
import { dma, seerAttention, sparsifiner } from '../src/index.js';

describeEstimator(seerAttention, {
  paramSets: [
    { mode: 'ratio', ratio: 0.3 },
    { mode: 'coverage', coverage: 0.5, lastBlockDense: false },
  ],
  plantedParams: { mode: 'coverage', coverage: 0.6, lastBlockDense: false },
});
describeEstimator(sparsifiner, {
  paramSets: [
    { rank: 4, mode: 'ratio', ratio: 0.3 },
    { rank: 2, mode: 'coverage', coverage: 0.7 },
  ],
  plantedParams: { rank: 32, mode: 'coverage', coverage: 0.7, lastBlockDense: false },
});
describeEstimator(dma, {
  paramSets: [{ keepWindowSize: 8 }, { keepWindowSize: 16, dynamicMaskRatio: 0.5 }],
  plantedParams: { keepWindowSize: 64 },
});
