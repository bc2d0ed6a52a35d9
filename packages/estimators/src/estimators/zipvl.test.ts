import { randomHeadTensor } from '@sparseland/core';
import { referenceLastQueriesAttention } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { asArrays, estimate, expectedKeys, keptKeys, naiveCover, naiveTop } from '../../test/helpers.js';
import { zipvl } from './zipvl.js';

describe('zipvl', () => {
  it('keeps, per head, its top columns of the layer-wide count covering τ of the averaged probe mass (twin)', async () => {
    const q = randomHeadTensor({ heads: 4, length: 80, dim: 8, seed: 13, scale: 2.5 });
    const k = randomHeadTensor({ heads: 2, length: 80, dim: 8, seed: 14 });
    const input = { q, k, v: k };
    for (const threshold of [0.5, 0.9]) {
      const probe = referenceLastQueriesAttention(input, { count: 16 });
      const perHead = Array.from({ length: 4 }, (_, h) => {
        const s = new Float64Array(80);
        for (let r = 0; r < 16; r++)
          for (let j = 0; j < 80; j++) s[j] = (s[j] as number) + (probe.data[(h * 16 + r) * 80 + j] as number) / 16;
        return s;
      });
      const layer = new Float64Array(80).map((_, j) => perHead.reduce((a, s) => a + (s[j] as number) / 4, 0));
      const count = naiveCover(layer, threshold);
      const { mask } = await estimate(zipvl, { threshold, lastQ: 16 }, input, { blockQ: 8, blockK: 8 });
      const want = expectedKeys(input, 8, true, function* (h, qb) {
        yield* naiveTop(perHead[h] as Float64Array, count);
        for (let p = qb * 8; p < (qb + 1) * 8; p++) yield p;
      });
      expect(asArrays(keptKeys(mask, input))).toEqual(asArrays(want));
    }
  });
});
