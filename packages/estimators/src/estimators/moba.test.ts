import { randomHeadTensor } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { asArrays, estimate, expectedKeys, keptKeys, naiveTop } from '../../test/helpers.js';
import { moba } from './moba.js';

describe('moba', () => {
  it('every token picks its own chunk and its best earlier chunks by q·mean(k); a query block keeps the union (twin)', async () => {
    const q = randomHeadTensor({ heads: 2, length: 50, dim: 8, seed: 9, scale: 2 });
    const k = randomHeadTensor({ heads: 1, length: 120, dim: 8, seed: 10 });
    const input = { q, k, v: k };
    const { qOffset } = resolveAttentionShape(input);
    const [chunk, topK, blockQ] = [16, 3, 8];
    const chunks = Math.ceil(120 / chunk);
    const means = Array.from({ length: chunks }, (_, c) => {
      const m = new Float64Array(8);
      const end = Math.min(120, (c + 1) * chunk);
      for (let j = c * chunk; j < end; j++)
        for (let d = 0; d < 8; d++) m[d] = (m[d] as number) + (k.data[j * 8 + d] as number) / (end - c * chunk);
      return m;
    });
    const picked = (h: number, i: number) => {
      const own = Math.floor((qOffset + i) / chunk);
      const scores = means.map((m, c) => {
        if (c === own) return Infinity;
        if (c > own) return -Infinity;
        let s = 0;
        for (let d = 0; d < 8; d++) s += (q.data[(h * 50 + i) * 8 + d] as number) * (m[d] as number);
        return s;
      });
      return naiveTop(scores, topK);
    };
    const { mask } = await estimate(moba, { chunkSize: chunk, topK }, input, { blockQ, blockK: 8 });
    const want = expectedKeys(input, blockQ, true, function* (h, qb) {
      for (let i = qb * blockQ; i < Math.min(50, (qb + 1) * blockQ); i++)
        for (const c of picked(h, i)) for (let j = c * chunk; j < (c + 1) * chunk; j++) yield j;
    });
    expect(asArrays(keptKeys(mask, input))).toEqual(asArrays(want));
  });
});
