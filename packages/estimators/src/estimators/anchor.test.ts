import { randomHeadTensor } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { asArrays, estimate, expectedKeys, keptKeys } from '../../test/helpers.js';
import { anchor } from './anchor.js';

describe('anchor', () => {
  // A chunk of queries late in the sequence (qOffset 60) and a prefill from position 0 (windows cut at key 0), GQA;
  // every logit negative; a non-causal call (init keys are always in the anchor, stripes run to the last key).
  it.each([
    [40, 100, false, true],
    [40, 40, false, true],
    [40, 40, true, true],
    [40, 100, false, false],
  ])(
    'keeps anchor regions plus stripes within θ of the block-averaged anchor, scored by the block-mean query (twin, %i queries, %i keys, negative logits %s, causal %s)',
    async (qLength, kvLength, negative, causal) => {
      const q = randomHeadTensor({ heads: 4, length: qLength, dim: 8, seed: 15, scale: 2 });
      const k = randomHeadTensor({ heads: 2, length: kvLength, dim: 8, seed: 16 });
      if (negative) {
        q.data.forEach((x, i) => {
          q.data[i] = Math.abs(x);
        });
        k.data.forEach((x, i) => {
          k.data[i] = -Math.abs(x);
        });
      }
      const input = { q, k, v: k };
      const { qOffset } = resolveAttentionShape(input);
      const logit = (h: number, i: number, j: number) => {
        let s = 0;
        for (let d = 0; d < 8; d++)
          s += (q.data[(h * qLength + i) * 8 + d] as number) * (k.data[(Math.floor(h / 2) * kvLength + j) * 8 + d] as number);
        return s / Math.sqrt(8);
      };
      const [blockQ, init, local] = [8, 3, 5];
      for (const threshold of [0.5, 2, 50]) {
        const { mask } = await estimate(anchor, { threshold, initTokens: init, localTokens: local }, input, { blockQ, blockK: 16, causal });
        const want = expectedKeys(input, blockQ, causal, function* (h, qb) {
          const rows = Array.from({ length: blockQ }, (_, r) => qb * blockQ + r);
          const anchors = rows.map((i) => {
            const pos = qOffset + i;
            let best = -Infinity;
            for (let j = 0; j < init; j++) if (j <= pos || !causal) best = Math.max(best, logit(h, i, j));
            for (let j = Math.max(0, pos - local + 1); j <= pos; j++) best = Math.max(best, logit(h, i, j));
            return best;
          });
          const avg = anchors.reduce((a, b) => a + b, 0) / rows.length;
          const last = qOffset + (qb + 1) * blockQ - 1;
          for (let j = 0; j <= (causal ? last : kvLength - 1); j++) {
            const pooled = rows.reduce((a, i) => a + logit(h, i, j), 0) / rows.length;
            if (pooled >= avg - threshold - 1e-9) yield j;
          }
          for (let j = 0; j < init; j++) yield j;
          for (let j = qOffset + qb * blockQ - local + 1; j <= last; j++) yield j;
        });
        expect(asArrays(keptKeys(mask, input, causal))).toEqual(asArrays(want));
      }
    },
  );
});
