import { createHeadTensor, randomHeadTensor, SparselandError } from '@sparseland/core';
import { createRng } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { asArrays, estimate, expectedKeys, keptKeys, naiveTop } from '../../test/helpers.js';
import { doubleSparsity } from './double-sparsity.js';
import { calibrateChannels, doubleSparsityRecipe } from './double-sparsity-channels.js';

describe('double-sparsity', () => {
  it('with every channel and no label quantisation, keeps the exact top heavy keys of the block-mean query (twin)', async () => {
    const q = randomHeadTensor({ heads: 2, length: 24, dim: 4, seed: 20, scale: 2 });
    const k = randomHeadTensor({ heads: 1, length: 60, dim: 4, seed: 21 });
    const input = { q, k, v: k };
    const heavy = 5;
    const { mask } = await estimate(
      doubleSparsity,
      {
        heavyConst: heavy,
        groupFactor: 1,
        labelBits: 0,
        channels: [
          [0, 1, 2, 3],
          [0, 1, 2, 3],
        ],
      },
      input,
      { blockQ: 6, blockK: 8 },
    );
    const want = expectedKeys(input, 6, true, function* (h, qb) {
      const last = 36 + (qb + 1) * 6 - 1;
      const scores = Array.from({ length: 60 }, (_, j) => {
        if (j > last) return -Infinity;
        let s = 0;
        for (let i = qb * 6; i < (qb + 1) * 6; i++)
          for (let c = 0; c < 4; c++) s += (q.data[(h * 24 + i) * 4 + c] as number) * (k.data[j * 4 + c] as number);
        return s;
      });
      yield* naiveTop(scores, heavy);
      for (let p = 36 + qb * 6; p <= last; p++) yield p;
    });
    expect(asArrays(keptKeys(mask, input))).toEqual(asArrays(want));
  });

  it('offline calibration finds the channels where q·k is large for a token and itself, per layer and head', () => {
    const rng = createRng(22);
    const make = (layer: number, hot: number) => {
      const q = createHeadTensor(2, 50, 16);
      const k = createHeadTensor(1, 50, 16);
      for (let i = 0; i < q.data.length; i++) q.data[i] = 0.1 * rng.normal();
      for (let i = 0; i < k.data.length; i++) k.data[i] = 0.1 * rng.normal();
      for (let t = 0; t < 50; t++) {
        q.data[t * 16 + hot] = 3;
        q.data[(50 + t) * 16 + hot + 1] = 3;
        k.data[t * 16 + hot] = 2;
        k.data[t * 16 + hot + 1] = 2;
      }
      return { layer, q, k };
    };
    const channels = calibrateChannels([make(0, 4), make(1, 10), make(1, 10)], { groupFactor: 16 });
    expect(channels.get(0)).toEqual([[4], [5]]);
    expect(channels.get(1)).toEqual([[10], [11]]);
    expect(calibrateChannels([make(0, 4)], { groupFactor: 4 }).get(0)?.[0]).toHaveLength(4);
    const recipe = doubleSparsityRecipe(channels, { heavyConst: 64 });
    expect(recipe.layers?.['1']?.default).toEqual({ method: 'double-sparsity', params: { heavyConst: 64, channels: channels.get(1) } });
  });

  it('rejects channel lists that do not match the heads or the head dim, and 1-bit labels', async () => {
    const q = randomHeadTensor({ heads: 2, length: 8, dim: 4, seed: 23 });
    const input = { q, k: q, v: q };
    await expect(estimate(doubleSparsity, { channels: [[0]] }, input, { blockQ: 4, blockK: 4 })).rejects.toThrow(SparselandError);
    await expect(estimate(doubleSparsity, { channels: [[0], [9]] }, input, { blockQ: 4, blockK: 4 })).rejects.toThrow(/below 4/);
    await expect(estimate(doubleSparsity, { labelBits: 1 }, input, { blockQ: 4, blockK: 4 })).rejects.toThrow(/labelBits/);
  });
});
