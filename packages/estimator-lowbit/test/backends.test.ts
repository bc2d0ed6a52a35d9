// SALE and PARO do their heavy work through the backend they are given: on the cpu backend (fp32 and int8 kernels,
// worker threads, relaxed SIMD where the engine has it) and gpu.js ('cpu' mode here) they must make the float64
// reference's decisions, up to near-ties, and report the same FLOPs.
import { createCpuBackend } from '@sparseland/backend-cpu';
import { createGpujsBackend } from '@sparseland/backend-gpujs';
import { plantedInputs, runEstimator } from '@sparseland/conformance';
import { attentionRecall, type Backend, countKeptPairs, createReferenceBackend, type EstimatorPlugin } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paro, sale } from '../src/index.js';

const backends: { name: string; create: () => Promise<Backend> }[] = [
  { name: 'cpu', create: () => createCpuBackend({ threads: 2, minParallelWork: 0 }) },
  { name: 'gpujs', create: () => createGpujsBackend({ mode: 'cpu' }) },
];

describe.each(backends)('low-bit estimators on the $name backend agree with the float64 reference', ({ create }) => {
  let backend: Backend;
  const reference = createReferenceBackend();
  beforeAll(async () => {
    backend = await create();
  });
  afterAll(async () => backend.dispose());
  const input = plantedInputs({ qHeads: 4, kvHeads: 2, qLength: 384, kvLength: 384, dim: 64 }, 6);
  const shape = resolveAttentionShape(input);
  const rows = Array.from({ length: 24 }, (_, r) => 15 + 16 * r);

  const cases: [string, EstimatorPlugin, Record<string, unknown>, number, number][] = [
    ['sale int4, 16×8', sale, { localWindow: 16, threshold: 0.01 }, 16, 8],
    [
      'sale int8, group scales, per-head τ, 16×16',
      sale,
      { localWindow: 16, bits: 8, scales: 'group', thresholds: [0.01, 0.05, 0, 0.01] },
      16,
      16,
    ],
    ['paro strides 1 and 4, 16×16', paro, { strides: [1, 4, 1, 4], coverage: 0.6 }, 16, 16],
  ];
  it.each(cases)('%s', async (_name, plugin, params, blockQ, blockK) => {
    const opts = { causal: true, blockQ, blockK, seed: 0, layer: 0 };
    const ref = await runEstimator(plugin, params, input, { ...opts, backend: reference });
    const got = await runEstimator(plugin, params, input, { ...opts, backend });
    const density = (m: typeof ref.mask) => countKeptPairs(m, shape).kept / countKeptPairs(m, shape).total;
    expect(density(ref.mask)).toBeLessThan(0.9);
    expect(Math.abs(density(got.mask) - density(ref.mask))).toBeLessThan(0.02);
    expect(Math.abs(attentionRecall(input, got.mask, { rows }).mean - attentionRecall(input, ref.mask, { rows }).mean)).toBeLessThan(0.02);
    expect(got.cost.total).toBe(ref.cost.total);
  });
});
