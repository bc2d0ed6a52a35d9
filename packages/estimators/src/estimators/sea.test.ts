import { createHeadTensor, randomHeadTensor } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { estimate, keptKeys } from '../../test/helpers.js';
import { sea } from './sea.js';

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
