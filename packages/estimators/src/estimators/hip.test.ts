import { randomHeadTensor } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { asArrays, estimate, expectedKeys, keptKeys, naiveTop } from '../../test/helpers.js';
import { hip, maxOf } from './hip.js';

const q = randomHeadTensor({ heads: 2, length: 48, dim: 8, seed: 24, scale: 2 });
const k = randomHeadTensor({ heads: 1, length: 200, dim: 8, seed: 25 });
const input = { q, k, v: k };
const qOffset = 152;
const dot = (h: number, i: number, j: number) => {
  let s = 0;
  for (let d = 0; d < 8; d++) s += (q.data[(h * 48 + i) * 8 + d] as number) * (k.data[j * 8 + d] as number);
  return s;
};

/** HiP's split-in-half tree search written out naively for one query block. */
function treeLeaves(
  h: number,
  qb: number,
  p: { maskK: number; blockSizeK: number; blockStrideQ: number; sinkTokens: number; windowTokens: number },
  blockQ: number,
): number[] {
  const first = qOffset + qb * blockQ;
  const last = qOffset + Math.min(48, (qb + 1) * blockQ) - 1;
  const origin = p.sinkTokens;
  const end = Math.max(origin, Math.min(last + 1, first - p.windowTokens + 1));
  const units = Math.ceil((end - origin) / p.blockSizeK);
  const k0 = Math.floor(p.maskK / p.blockSizeK);
  const n = Math.min(k0, units);
  let nodes: [number, number][] = Array.from({ length: n }, (_, j) => [Math.floor((j * units) / n), Math.floor(((j + 1) * units) / n)]);
  const rows: number[] = [];
  for (let i = qb * blockQ; i < Math.min(48, (qb + 1) * blockQ); i += p.blockStrideQ) rows.push(i);
  while (units > k0 && nodes.some(([a, b]) => b - a > 1)) {
    const kids: [number, number][] = [];
    for (const [a, b] of nodes) {
      if (b - a <= 1) kids.push([a, b]);
      else kids.push([a, Math.floor((a + b) / 2)], [Math.floor((a + b) / 2), b]);
    }
    const scores = kids.map(([a, b]) => {
      const c = Math.floor((a + b - 1) / 2);
      let best = -Infinity;
      for (let key = origin + c * p.blockSizeK; key < Math.min(end, origin + (c + 1) * p.blockSizeK); key++)
        for (const i of rows) best = Math.max(best, dot(h, i, key));
      return best;
    });
    nodes = naiveTop(scores, k0).map((c) => kids[c] as [number, number]);
  }
  const keys: number[] = [];
  for (const [a, b] of nodes)
    for (let key = origin + a * p.blockSizeK; key < Math.min(end, origin + b * p.blockSizeK); key++) keys.push(key);
  return keys;
}

describe('hip', () => {
  it('keeps the sink, the sliding window and the leaves of the split-in-half tree search (naive twin)', async () => {
    for (const p of [
      { maskK: 16, blockSizeK: 2, blockStrideQ: 2, sinkTokens: 4, windowTokens: 8 },
      { maskK: 12, blockSizeK: 3, blockStrideQ: 1, sinkTokens: 0, windowTokens: 1 },
    ]) {
      const blockQ = 8;
      const { mask } = await estimate(hip, p, input, { blockQ, blockK: 16 });
      const want = expectedKeys(input, blockQ, true, function* (h, qb) {
        for (let j = 0; j < p.sinkTokens; j++) yield j;
        for (let j = qOffset + qb * blockQ - p.windowTokens + 1; j <= qOffset + (qb + 1) * blockQ - 1; j++) yield j;
        yield* treeLeaves(h, qb, p, blockQ);
      });
      expect(asArrays(keptKeys(mask, input))).toEqual(asArrays(want));
    }
  });

  it('keeps every visible key when mask_k covers the searched range', async () => {
    const { mask } = await estimate(hip, { maskK: 400 }, input, { blockQ: 8, blockK: 16 });
    expect(keptKeys(mask, input).every((rows) => rows.every((set, i) => set.size === qOffset + i + 1))).toBe(true);
  });

  it("takes a child's score as the largest of its centre keys' maxima, a NaN losing to any number", () => {
    const m = Float32Array.of(1, 3, 3, 1, Number.NaN, 2, 2, Number.NaN, Number.NaN, Number.NaN, -5, 4, 7);
    // Two keys (the branch-free pick) at 0, 2, 4, 6 and 8; three and one at 10 and 12 (the loop).
    expect([0, 2, 4, 6, 8].map((p) => maxOf(m, p, 2))).toEqual([3, 3, 2, 2, Number.NaN]);
    expect(maxOf(m, 10, 3)).toBe(7);
    expect(maxOf(m, 12, 1)).toBe(7);
    expect(maxOf(m, 0, 0)).toBe(Number.NEGATIVE_INFINITY);
  });
});
