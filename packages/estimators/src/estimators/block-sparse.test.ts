import { randomHeadTensor } from '@sparseland/core';
import { referencePooledScores, resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { asArrays, estimate, expectedKeys, keptKeys, naiveTop } from '../../test/helpers.js';
import { blockSparse } from './block-sparse.js';

describe('block-sparse', () => {
  it('keeps the top-k key blocks of mean-pooled raw Q·K per query block and the own-key blocks, never a future block (float64 twin)', async () => {
    const q = randomHeadTensor({ heads: 4, length: 45, dim: 8, seed: 3 });
    const k = randomHeadTensor({ heads: 2, length: 101, dim: 8, seed: 4 });
    const input = { q, k, v: k };
    const shape = resolveAttentionShape(input);
    for (const [blockQ, blockK, topK] of [
      [8, 8, 3],
      [16, 7, 1],
      [5, 32, 9],
    ] as const) {
      const scores = referencePooledScores(input, { blockQ, blockK, scale: 1, causal: true });
      const { mask } = await estimate(blockSparse, { topK }, input, { blockQ, blockK });
      const want = expectedKeys(input, blockQ, true, function* (h, qb) {
        const row = scores.data.subarray((h * scores.qBlocks + qb) * scores.kBlocks, (h * scores.qBlocks + qb + 1) * scores.kBlocks);
        const first = Math.floor((shape.qOffset + qb * blockQ) / blockK);
        const last = Math.floor((shape.qOffset + Math.min(shape.qLength, (qb + 1) * blockQ) - 1) / blockK);
        const own = Array.from({ length: last - first + 1 }, (_, i) => first + i);
        for (const kb of new Set([...naiveTop(row, topK), ...own])) for (let key = kb * blockK; key < (kb + 1) * blockK; key++) yield key;
      });
      expect(asArrays(keptKeys(mask, input))).toEqual(asArrays(want));
      expect(mask.blocks?.qBlocks).toBe(Math.ceil(shape.qLength / blockQ));
    }
  });
});
