import { createHeadTensor, randomHeadTensor } from '@sparseland/core';
import { createRng, resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { estimate, keptKeys } from '../../test/helpers.js';
import { sparkTopk } from './spark-topk.js';

describe('spark-topk', () => {
  it('keeps about k keys per query block from the mean and std of its scores, without sorting', async () => {
    // One query row per block, Gaussian scores over 4096 keys: the statistical threshold keeps close to k.
    const n = 4096;
    const q = createHeadTensor(1, 1, 16);
    q.data.set(Array.from({ length: 16 }, (_, c) => (c === 0 ? 4 : 0)));
    const k = randomHeadTensor({ heads: 1, length: n, dim: 16, seed: 17 });
    const input = { q, k, v: k };
    for (const want of [32, 128, 512]) {
      const { mask } = await estimate(sparkTopk, { k: want }, input, { blockQ: 1, blockK: 64 });
      const kept = (keptKeys(mask, input)[0] as Set<number>[])[0] as Set<number>;
      // The own position is forced; the rest is the statistical top-k.
      expect(kept.size - 1).toBeGreaterThan(want * 0.6);
      expect(kept.size - 1).toBeLessThan(want * 1.4);
    }
  });

  it('keeps every visible key when k is at least the visible count, and scores on the leading channels only', async () => {
    const q = randomHeadTensor({ heads: 2, length: 30, dim: 8, seed: 18 });
    const k = randomHeadTensor({ heads: 1, length: 30, dim: 8, seed: 19 });
    const input = { q, k, v: k };
    const { mask } = await estimate(sparkTopk, { k: 30 }, input, { blockQ: 4, blockK: 4 });
    expect(keptKeys(mask, input).every((rows) => rows.every((set, i) => set.size === i + 1))).toBe(true);
    // Channels beyond predictorDims cannot change the choice.
    const noisy = { ...input, q: { ...q, data: q.data.map((x, i) => (i % 8 >= 2 ? x + createRng(i).normal() : x)) } };
    const a = await estimate(sparkTopk, { k: 5, predictorDims: 2 }, input, { blockQ: 4, blockK: 4 });
    const b = await estimate(sparkTopk, { k: 5, predictorDims: 2 }, noisy, { blockQ: 4, blockK: 4 });
    expect(keptKeys(a.mask, input)).toEqual(keptKeys(b.mask, noisy));
    expect(resolveAttentionShape(input).heads).toBe(2);
  });
});
