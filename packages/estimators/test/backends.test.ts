// Every estimator does its heavy work through the backend it is given: on the cpu backend (fp32 kernels, worker
// threads) it must make the same decisions as on the float64 reference, up to near-ties.
import { createCpuBackend } from '@sparseland/backend-cpu';
import { plantedInputs } from '@sparseland/conformance';
import { attentionRecall, type Backend, countKeptPairs } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimators } from '../src/index.js';
import { estimate } from './helpers.js';

const PARAMS: Record<string, Record<string, unknown>> = {
  'vertical-slash': { vertical: 30, slash: 50, localDiagonals: 8, sinkColumns: 2 },
  'block-sparse': { topK: 4 },
  flexprefill: { lastQ: 32, gamma: 0.6 },
  'block-topk': { topK: 4 },
  moba: { chunkSize: 32, topK: 3 },
  biformer: { regions: 32, topK: 4 },
  hip: { maskK: 32, sinkTokens: 2, windowTokens: 8 },
  hyperattention: { minSeqLen: 64, blockSize: 16, sampleSize: 8, lshNumProjs: 4 },
  routing: { windowSize: 16, localWindow: 8, iterations: 4 },
  'reformer-lsh': { chunkLength: 16, numHashes: 2 },
  anchor: { initTokens: 4, localTokens: 8, threshold: 3 },
  sea: { width: 64, topK: 4 },
  'spark-topk': { k: 24 },
  'double-sparsity': { heavyConst: 24, groupFactor: 4 },
  zipvl: { threshold: 0.8 },
};

describe('estimators on the cpu backend agree with the float64 reference', () => {
  let cpu: Backend;
  beforeAll(async () => {
    cpu = await createCpuBackend({ threads: 2, minParallelWork: 0 });
  });
  afterAll(async () => cpu.dispose());
  const input = plantedInputs({ qHeads: 4, kvHeads: 2, qLength: 384, kvLength: 384, dim: 64 }, 6);
  const shape = resolveAttentionShape(input);
  const rows = Array.from({ length: 24 }, (_, r) => 15 + 16 * r);

  it.each(estimators.map((e) => [e.name, e] as const))('%s', async (_name, plugin) => {
    const params = PARAMS[plugin.name] ?? {};
    const ref = await estimate(plugin, params, input, { blockQ: 16, blockK: 16 });
    const got = await estimate(plugin, params, input, { blockQ: 16, blockK: 16, backend: cpu });
    const density = (m: typeof ref.mask) => countKeptPairs(m, shape).kept / countKeptPairs(m, shape).total;
    expect(Math.abs(density(got.mask) - density(ref.mask))).toBeLessThan(0.02);
    expect(Math.abs(attentionRecall(input, got.mask, { rows }).mean - attentionRecall(input, ref.mask, { rows }).mean)).toBeLessThan(0.02);
    expect(got.flops).toBe(ref.flops);
  });
});
