import { createHeadTensor, randomHeadTensor } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { estimate, keptKeys } from '../../test/helpers.js';
import { FEATURE_FLOOR, positiveFeatures, sea } from './sea.js';

describe('sea', () => {
  it('keeps every visible bin when topK covers them, and always the own bin', async () => {
    const q = randomHeadTensor({ heads: 2, length: 50, dim: 8, seed: 28 });
    const k = randomHeadTensor({ heads: 1, length: 50, dim: 8, seed: 29 });
    const input = { q, k, v: k };
    const all = await estimate(sea, { width: 10, topK: 10 }, input, { blockQ: 5, blockK: 5 });
    expect(keptKeys(all.mask, input).every((rows) => rows.every((set, i) => set.size === i + 1))).toBe(true);
    const one = await estimate(sea, { width: 10, topK: 1 }, input, { blockQ: 1, blockK: 5 });
    keptKeys(one.mask, input).forEach((rows) => rows.forEach((set, i) => expect(set.has(i)).toBe(true)));
  });

  it('the kernel estimate finds a key every query strongly matches', async () => {
    const n = 256;
    const q = createHeadTensor(1, n, 16);
    const k = randomHeadTensor({ heads: 1, length: n, dim: 16, seed: 30, scale: 0.3 });
    for (let i = 0; i < n; i++) q.data[i * 16] = 3;
    k.data[40 * 16] = 3; // key 40: logit 9·4 / 4 = 2.25 above the rest for every query
    const input = { q, k, v: k };
    const { mask } = await estimate(sea, { width: 32, topK: 1, features: 64 }, input, { blockQ: 16, blockK: 8 });
    const kept = keptKeys(mask, input)[0] as Set<number>[];
    for (let i = 60; i < n; i += 7) expect((kept[i] as Set<number>).has(40)).toBe(true);
  });
});

describe('sea features', () => {
  it('are exp(ω·x′ − |x′|²/2 − max) / √m, with values under FEATURE_FLOOR (subnormal products) stored as 0', () => {
    // Two rows of dim 2, m = 4 projections; the second row's features span 1 down to e^-60.
    const proj = Float32Array.from([0.5, -1, 2, 0, 0, -20, -40, -60]);
    const rows = Float32Array.from([1, 2, 0, 0]);
    const out = positiveFeatures(proj, rows, 2, 4, 2, 1, true);
    for (let r = 0; r < 2; r++) {
      const half = r === 0 ? 2.5 : 0;
      const max = Math.max(...Array.from(proj.subarray(r * 4, r * 4 + 4), (x) => x - half));
      for (let f = 0; f < 4; f++) {
        const exact = Math.exp((proj[r * 4 + f] as number) - half - max) / 2;
        expect(out[r * 4 + f]).toBe(exact < FEATURE_FLOOR ? 0 : Math.fround(exact));
      }
    }
    expect(out[7]).toBe(0);
    expect(out[6]).toBeGreaterThan(0);
  });
});
