import { randomHeadTensor, sliceHeads } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { headHalves } from './sub-input.js';

describe('headHalves', () => {
  it.each([
    [
      8,
      2,
      [
        [0, 4, 0, 1],
        [4, 8, 1, 2],
      ],
    ],
    [
      3,
      3,
      [
        [0, 1, 0, 1],
        [1, 3, 1, 3],
      ],
    ],
    [
      6,
      3,
      [
        [0, 2, 0, 1],
        [2, 6, 1, 3],
      ],
    ],
    [
      4,
      1,
      [
        [0, 2, 0, 1],
        [2, 4, 0, 1],
      ],
    ],
    [
      3,
      1,
      [
        [0, 1, 0, 1],
        [1, 3, 0, 1],
      ],
    ],
    [1, 1, [[0, 1, 0, 1]]],
  ])('%i query heads over %i kv heads: lanes that keep each query head with its kv head, as views', (heads, kvHeads, want) => {
    const q = randomHeadTensor({ heads, length: 5, dim: 4, seed: 1 });
    const k = randomHeadTensor({ heads: kvHeads, length: 7, dim: 4, seed: 2 });
    const input = { q, k, causal: true, shape: resolveAttentionShape({ q, k, v: k }) };
    const lanes = headHalves(input);
    expect(lanes.map((l) => [l.firstHead, l.firstHead + l.input.shape.heads])).toEqual(want.map(([a, b]) => [a, b]));
    lanes.forEach((lane, i) => {
      const [q0, q1, g0, g1] = want[i] as [number, number, number, number];
      expect(lane.input.shape).toMatchObject({ heads: q1 - q0, kvHeads: g1 - g0, qLength: 5, kvLength: 7 });
      expect(lane.input.q.data).toEqual(sliceHeads(q, q0, q1).data);
      expect(lane.input.k.data).toEqual(sliceHeads(k, g0, g1).data);
      expect(lane.input.q.data.buffer).toBe(q.data.buffer);
      // Query head h of the lane reads kv head h / group of the lane, as the whole call would.
      const group = heads / kvHeads;
      for (let h = q0; h < q1; h++) {
        expect(Math.floor(h / group) - g0).toBe(Math.floor((h - q0) / (lane.input.shape.heads / lane.input.shape.kvHeads)));
      }
    });
  });
});
