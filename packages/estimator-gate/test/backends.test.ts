// Every gate does its heavy work through the backend it is given: on the cpu backend (fp32 kernels, worker threads)
// and gpu.js ('cpu' mode here) it must make the float64 reference's decisions, up to near-ties, and report the same
// FLOPs; with the shipped gate on a real tinybooks-2k trace as well as untrained on the kit's planted input.
import { createCpuBackend } from '@sparseland/backend-cpu';
import { createGpujsBackend } from '@sparseland/backend-gpujs';
import { plantedInputs, runEstimator } from '@sparseland/conformance';
import { attentionRecall, type Backend, countKeptPairs, createReferenceBackend, type EstimatorPlugin } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import { collectItems, realTraceWorkload } from '@sparseland/eval';
import { gateFile } from '@sparseland/fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dma, seerAttention, sparsifiner } from '../src/index.js';

const backends: { name: string; create: () => Promise<Backend> }[] = [
  { name: 'cpu', create: () => createCpuBackend({ threads: 2, minParallelWork: 0 }) },
  { name: 'gpujs', create: () => createGpujsBackend({ mode: 'cpu' }) },
];

describe.each(backends)('gates on the $name backend agree with the float64 reference', ({ create }) => {
  let backend: Backend;
  const reference = createReferenceBackend();
  beforeAll(async () => {
    backend = await create();
  });
  afterAll(async () => backend.dispose());

  const compare = async (
    plugin: EstimatorPlugin,
    params: Record<string, unknown>,
    input: Parameters<typeof runEstimator>[2],
    layer: number,
    blocks: number,
  ) => {
    const shape = resolveAttentionShape(input);
    const opts = { causal: true, blockQ: blocks, blockK: blocks, seed: 0, layer };
    const ref = await runEstimator(plugin, params, input, { ...opts, backend: reference });
    const got = await runEstimator(plugin, params, input, { ...opts, backend });
    const density = (m: typeof ref.mask) => countKeptPairs(m, shape).kept / countKeptPairs(m, shape).total;
    expect(Math.abs(density(got.mask) - density(ref.mask))).toBeLessThan(0.02);
    const rows = Array.from({ length: 24 }, (_, r) => Math.floor(((r + 0.5) * shape.qLength) / 24));
    expect(Math.abs(attentionRecall(input, got.mask, { rows }).mean - attentionRecall(input, ref.mask, { rows }).mean)).toBeLessThan(0.02);
    expect(got.cost.total).toBe(ref.cost.total);
    expect(got.cost.total).toBeGreaterThan(0);
  };

  it('untrained gates on the planted input (GQA 4:2, n = 384)', async () => {
    const input = plantedInputs({ qHeads: 4, kvHeads: 2, qLength: 384, kvLength: 384, dim: 64 }, 6);
    await compare(seerAttention, { mode: 'coverage', coverage: 0.6 }, input, 0, 16);
    await compare(sparsifiner, { rank: 32, mode: 'coverage', coverage: 0.7 }, input, 0, 16);
    await compare(dma, { keepWindowSize: 64 }, input, 0, 16);
  });

  it('the shipped tinybooks-2k gate on a real trace (layer 3, 512 tokens)', async () => {
    const [item] = await collectItems(await realTraceWorkload({ model: 'tinybooks-2k', positions: 512, offset: 5000, layers: [3] }));
    if (!item) throw new Error('no trace');
    await compare(seerAttention, { weights: gateFile('tinybooks-2k.seer-attention'), threshold: 0.15, lastBlockDense: false }, item, 3, 64);
  });
});
