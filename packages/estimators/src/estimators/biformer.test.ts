import { randomHeadTensor } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { asArrays, estimate, expectedKeys, keptKeys, naiveTop } from '../../test/helpers.js';
import { biformer } from './biformer.js';

describe('biformer', () => {
  it('routes each query region to its own and its top-k − 1 earlier key regions by region-mean affinity (twin)', async () => {
    const q = randomHeadTensor({ heads: 2, length: 70, dim: 8, seed: 11, scale: 2 });
    const k = randomHeadTensor({ heads: 2, length: 70, dim: 8, seed: 12 });
    const input = { q, k, v: k };
    const [regions, topK, blockQ] = [7, 3, 5];
    const size = 10;
    const mean = (t: typeof q, h: number, r: number) => {
      const m = new Float64Array(8);
      for (let i = r * size; i < (r + 1) * size; i++)
        for (let d = 0; d < 8; d++) m[d] = (m[d] as number) + (t.data[(h * 70 + i) * 8 + d] as number) / size;
      return m;
    };
    const routed = (h: number, r: number) =>
      naiveTop(
        Array.from({ length: regions }, (_, c) => {
          if (c > r) return -Infinity;
          if (c === r) return Infinity; // causal: the own region is always routed
          const a = mean(q, h, r);
          const b = mean(k, h, c);
          return a.reduce((acc, x, d) => acc + x * (b[d] as number), 0);
        }),
        topK,
      );
    const { mask } = await estimate(biformer, { regions, topK }, input, { blockQ, blockK: 8 });
    const want = expectedKeys(input, blockQ, true, function* (h, qb) {
      for (let r = Math.floor((qb * blockQ) / size); r <= Math.floor(((qb + 1) * blockQ - 1) / size); r++) {
        for (const c of routed(h, r)) for (let j = c * size; j < (c + 1) * size; j++) yield j;
      }
    });
    expect(asArrays(keptKeys(mask, input))).toEqual(asArrays(want));
  });
});
