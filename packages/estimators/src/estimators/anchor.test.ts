import { randomHeadTensor, resolveAttentionShape } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { asArrays, estimate, expectedKeys, keptKeys } from '../../test/helpers.js';
import { anchor } from './anchor.js';

const q = randomHeadTensor({ heads: 4, length: 40, dim: 8, seed: 15, scale: 2 });
const k = randomHeadTensor({ heads: 2, length: 100, dim: 8, seed: 16 });
const input = { q, k, v: k };
const { qOffset } = resolveAttentionShape(input);
const logit = (h: number, i: number, j: number) => {
  let s = 0;
  for (let d = 0; d < 8; d++) s += (q.data[(h * 40 + i) * 8 + d] as number) * (k.data[(Math.floor(h / 2) * 100 + j) * 8 + d] as number);
  return s / Math.sqrt(8);
};

describe('anchor', () => {
  it('keeps anchor regions plus stripes within θ of the block-averaged anchor, scored by the block-mean query (twin)', async () => {
    const [blockQ, init, local] = [8, 3, 5];
    for (const threshold of [0.5, 2, 50]) {
      const { mask } = await estimate(anchor, { threshold, initTokens: init, localTokens: local }, input, { blockQ, blockK: 16 });
      const want = expectedKeys(input, blockQ, true, function* (h, qb) {
        const rows = Array.from({ length: blockQ }, (_, r) => qb * blockQ + r);
        const anchors = rows.map((i) => {
          const pos = qOffset + i;
          let best = -Infinity;
          for (let j = 0; j < init; j++) best = Math.max(best, logit(h, i, j));
          for (let j = pos - local + 1; j <= pos; j++) best = Math.max(best, logit(h, i, j));
          return best;
        });
        const avg = anchors.reduce((a, b) => a + b, 0) / rows.length;
        const last = qOffset + (qb + 1) * blockQ - 1;
        for (let j = 0; j <= last; j++) {
          const pooled = rows.reduce((a, i) => a + logit(h, i, j), 0) / rows.length;
          if (pooled >= avg - threshold - 1e-9) yield j;
        }
        for (let j = 0; j < init; j++) yield j;
        for (let j = qOffset + qb * blockQ - local + 1; j <= last; j++) yield j;
      });
      expect(asArrays(keptKeys(mask, input))).toEqual(asArrays(want));
    }
  });
});
