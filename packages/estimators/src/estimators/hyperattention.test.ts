import { randomHeadTensor } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { estimate, keptKeys } from '../../test/helpers.js';
import { hyperattention } from './hyperattention.js';

const q = randomHeadTensor({ heads: 2, length: 64, dim: 8, seed: 26 });
const k = randomHeadTensor({ heads: 1, length: 64, dim: 8, seed: 27 });
const input = { q, k, v: k };

describe('hyperattention', () => {
  it('is exact (dense) below min_seq_len', async () => {
    const { mask } = await estimate(hyperattention, {}, input, { blockQ: 8, blockK: 8 });
    expect(keptKeys(mask, input).every((rows) => rows.every((set, i) => set.size === i + 1))).toBe(true);
  });

  it('causal recursion: dense diagonal squares, and every other key inside a lower-left quadrant of the row', async () => {
    const p = { minSeqLen: 16, blockSize: 4, sampleSize: 3, lshNumProjs: 3 };
    const { mask } = await estimate(hyperattention, p, input, { blockQ: 1, blockK: 8 });
    const kept = keptKeys(mask, input);
    // Squares of 16: [0,16), [16,32), ... Quadrants: queries [32,64) × keys [0,32), [16,32) × [0,16), [48,64) × [32,48).
    const quadrantsOf = (pos: number) =>
      [
        [32, 64, 0, 32],
        [16, 32, 0, 16],
        [48, 64, 32, 48],
      ].filter(([qs, qe]) => pos >= (qs as number) && pos < (qe as number));
    for (const rows of kept) {
      rows.forEach((set, pos) => {
        const square = Math.floor(pos / 16) * 16;
        for (let j = square; j <= pos; j++) expect(set.has(j)).toBe(true);
        const outside = [...set].filter((j) => j < square);
        for (const j of outside) expect(quadrantsOf(pos).some(([, , ks, ke]) => j >= (ks as number) && j < (ke as number))).toBe(true);
        // Each quadrant gives one sorted block (≤ 4 keys) plus ≤ 3 samples.
        expect(outside.length).toBeLessThanOrEqual(quadrantsOf(pos).length * 7);
        if (quadrantsOf(pos).length > 0) expect(outside.length).toBeGreaterThan(0);
      });
    }
  });

  it('a sorted block as large as the quadrant keeps the whole quadrant; another seed draws other hyperplanes', async () => {
    const { mask } = await estimate(hyperattention, { minSeqLen: 16, blockSize: 64, sampleSize: 0 }, input, { blockQ: 4, blockK: 8 });
    expect(keptKeys(mask, input).every((rows) => rows.every((set, i) => set.size === i + 1))).toBe(true);
    const p = { minSeqLen: 16, blockSize: 4, sampleSize: 2 };
    const a = await estimate(hyperattention, p, input, { blockQ: 1, blockK: 8, seed: 1 });
    const b = await estimate(hyperattention, p, input, { blockQ: 1, blockK: 8, seed: 2 });
    expect(keptKeys(a.mask, input)).not.toEqual(keptKeys(b.mask, input));
  });
});
