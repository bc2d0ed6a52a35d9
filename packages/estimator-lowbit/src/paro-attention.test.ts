// PAROAttention: permuted execution matches float64 dense attention when every visible block is kept, the
// permutation gathers a strided pattern into blocks, and the estimator's mapped-back mask contains its selection.
import { attentionRecall, countKeptPairs, createHeadTensor, createReferenceBackend, referenceAttention } from '@sparseland/core';
import { createCostMeter, createRng, resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { choosePermutations, oracleBlockRecall } from './calibration/choose-permutations.js';
import { paro } from './estimators/paro.js';
import { paroAttention } from './paro-attention.js';
import { stridePermutation } from './permutation.js';

/** Each query attends to the keys 8, 16, 24 positions back (a periodic pattern) over weak noise. */
function periodic(seed: number, n = 128, dim = 32) {
  const rng = createRng(seed);
  const q = createHeadTensor(2, n, dim);
  const k = createHeadTensor(1, n, dim);
  const v = createHeadTensor(1, n, dim);
  const code = Array.from({ length: n }, () => Array.from({ length: dim }, () => rng.normal() / Math.sqrt(dim)));
  for (let j = 0; j < n; j++)
    for (let c = 0; c < dim; c++) {
      k.data[j * dim + c] = code[j]?.[c] as number;
      v.data[j * dim + c] = rng.normal();
    }
  for (let h = 0; h < 2; h++) {
    for (let i = 0; i < n; i++) {
      for (const back of [0, 8, 16, 24]) {
        const j = i - back;
        if (j < 0) continue;
        for (let c = 0; c < dim; c++)
          q.data[(h * n + i) * dim + c] = (q.data[(h * n + i) * dim + c] as number) + 6 * Math.sqrt(dim) * (code[j]?.[c] as number);
      }
    }
  }
  return { q, k, v };
}

describe('paroAttention', () => {
  it('with every block kept equals dense attention (stride 8, GQA, blocks 16×16)', async () => {
    const input = periodic(1);
    const run = await paroAttention(input, { strides: [8, 1], coverage: 1, blockQ: 16, blockK: 16 });
    const dense = referenceAttention(input, { causal: true });
    for (let x = 0; x < dense.output.data.length; x++) expect(run.output.data[x]).toBeCloseTo(dense.output.data[x] as number, 4);
    expect(run.density).toBeCloseTo(1, 6);
  });

  it('the stride-8 order makes the periodic pattern block-wise: more recall at the same density', async () => {
    const input = periodic(2);
    const backend = createReferenceBackend();
    const probs = (await backend.lastQueriesAttention({ q: input.q, k: input.k }, { count: 128 })).data;
    const plain = oracleBlockRecall(probs, 0, 128, stridePermutation(128, 1), 16, 16, 0.2);
    const permuted = oracleBlockRecall(probs, 0, 128, stridePermutation(128, 8), 16, 16, 0.2);
    expect(permuted).toBeGreaterThan(plain + 0.1);
    const choices = await choosePermutations([{ layer: 0, ...input }], { strides: [1, 2, 8], density: 0.2, blockQ: 16, blockK: 16 });
    expect(choices.map((c) => c.stride)).toEqual([8, 8]);
    const sparse = await paroAttention(input, { strides: [8, 8], coverage: 0.9, blockQ: 16, blockK: 16 });
    expect(sparse.density).toBeLessThan(0.6);
  });

  it('the estimator maps the permuted selection back: its mask holds every kept pair, causal', async () => {
    const input = periodic(3);
    const shape = resolveAttentionShape(input);
    const est = paro.build(paro.parseParams({ strides: [8, 1], coverage: 0.9 }));
    const mask = (await est(
      { ...input, shape, causal: true },
      { backend: createReferenceBackend(), cost: createCostMeter(), seed: 0, layer: 0, blockQ: 16, blockK: 16 },
    )) as never;
    const { kept, total } = countKeptPairs(mask, shape);
    expect(kept / total).toBeLessThan(1);
    expect(attentionRecall(input, mask).mean).toBeGreaterThan(0.9);
  });
});
