// Every estimator through the public conformance kit, with the small parameters that make it sparse on the kit's
// planted input (n = 512, 16×16 blocks); defaults are checked for validity on the odd shapes as well. Each runs on
// the float64 reference and on the cpu backend (fp32 kernels, jobs on two worker threads), where the kit also checks
// that it makes the reference backend's decisions (density, recall, FLOPs).
import { createCpuBackend } from '@sparseland/backend-cpu';
import { type DescribeEstimatorOptions, describeEstimator, REFERENCE_BACKEND } from '@sparseland/conformance';
import {
  anchor,
  biformer,
  blockSparse,
  blockTopk,
  doubleSparsity,
  flexprefill,
  hip,
  hyperattention,
  moba,
  reformerLsh,
  routing,
  sea,
  sparkTopk,
  verticalSlash,
  zipvl,
} from '../src/index.js';

const backends: DescribeEstimatorOptions['backends'] = [
  REFERENCE_BACKEND,
  { name: 'cpu (2 threads, every job on the workers)', create: () => createCpuBackend({ threads: 2, minParallelWork: 0 }) },
];

describeEstimator(verticalSlash, {
  backends,
  paramSets: [{ vertical: 30, slash: 50, localDiagonals: 4, sinkColumns: 2, lastQ: 7 }],
  plantedParams: { vertical: 30, slash: 50, localDiagonals: 8, sinkColumns: 2 },
});
describeEstimator(blockSparse, { backends, paramSets: [{ topK: 2 }], plantedParams: { topK: 4 } });
describeEstimator(flexprefill, {
  backends,
  paramSets: [
    { lastQ: 8, gamma: 0.5 },
    { lastQ: 8, tau: 1, gamma: 0.8, minBudget: 16, maxBudget: 48 },
  ],
  plantedParams: { lastQ: 32, gamma: 0.6 },
});
describeEstimator(blockTopk, {
  backends,
  paramSets: [{ topK: 2 }, { mode: 'cumulative', threshold: 0.5 }, { topK: 2, global: true }, { mode: 'cumulative', global: true }],
  plantedParams: { topK: 4 },
});
describeEstimator(moba, { backends, paramSets: [{ chunkSize: 16, topK: 2 }], plantedParams: { chunkSize: 32, topK: 3 } });
describeEstimator(biformer, { backends, paramSets: [{ regions: 5, topK: 2 }], plantedParams: { regions: 32, topK: 4 } });
describeEstimator(hip, {
  backends,
  paramSets: [{ maskK: 8, sinkTokens: 2, windowTokens: 4, blockSizeK: 2 }],
  plantedParams: { maskK: 32, sinkTokens: 2, windowTokens: 8 },
});
describeEstimator(hyperattention, {
  backends,
  paramSets: [{ minSeqLen: 16, blockSize: 8, sampleSize: 4, lshNumProjs: 3 }],
  plantedParams: { minSeqLen: 64, blockSize: 16, sampleSize: 8, lshNumProjs: 4 },
});
describeEstimator(routing, {
  backends,
  paramSets: [{ windowSize: 8, localWindow: 4, iterations: 2 }],
  plantedParams: { windowSize: 16, localWindow: 8, iterations: 4 },
});
describeEstimator(reformerLsh, {
  backends,
  paramSets: [{ chunkLength: 8, numHashes: 2 }],
  plantedParams: { chunkLength: 16, numHashes: 2 },
});
describeEstimator(anchor, {
  backends,
  paramSets: [{ initTokens: 2, localTokens: 4, threshold: 2 }],
  plantedParams: { initTokens: 4, localTokens: 8, threshold: 3 },
});
describeEstimator(sea, { backends, paramSets: [{ width: 8, topK: 2, features: 4 }], plantedParams: { width: 64, topK: 4 } });
describeEstimator(sparkTopk, { backends, paramSets: [{ k: 5, predictorDims: 4 }], plantedParams: { k: 24 } });
describeEstimator(doubleSparsity, {
  backends,
  paramSets: [{ heavyConst: 6, groupFactor: 2, labelBits: 0 }],
  plantedParams: { heavyConst: 24, groupFactor: 4 },
});
describeEstimator(zipvl, { backends, paramSets: [{ threshold: 0.5, lastQ: 5 }], plantedParams: { threshold: 0.8 } });
