import { createHeadTensor } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { blockGrid } from './block-geometry.js';
import { poolBlocks } from './pooling.js';
import { selectBlocks, softmaxVisible } from './selection.js';

const shape = { heads: 1, kvHeads: 1, qLength: 40, kvLength: 40, dim: 2, qOffset: 0 };

describe('gate block selection', () => {
  const grid = blockGrid(shape, 8, 8, true);
  // Row qb sees key blocks 0..qb; logits favour the diagonal, then block 0.
  const logits = new Float32Array(5 * 5);
  for (let qb = 0; qb < 5; qb++) for (let kb = 0; kb <= qb; kb++) logits[qb * 5 + kb] = kb === qb ? 3 : kb === 0 ? 2 : 0;
  softmaxVisible(logits, 1, grid);
  const kept = (mode: 'threshold' | 'ratio' | 'coverage', extra: Record<string, number | boolean> = {}) => {
    const mask = selectBlocks(logits, shape, grid, { mode, threshold: 0.2, ratio: 0.4, coverage: 0.8, lastBlockDense: false, ...extra });
    return Array.from({ length: 5 }, (_, qb) => Array.from(mask.fullBlocks(0, qb)));
  };

  it('softmax covers the visible blocks only, each row summing to 1', () => {
    for (let qb = 0; qb < 5; qb++) {
      let sum = 0;
      for (let kb = 0; kb <= qb; kb++) sum += logits[qb * 5 + kb] as number;
      expect(sum).toBeCloseTo(1, 6);
      for (let kb = qb + 1; kb < 5; kb++) expect(Number.isNaN(logits[qb * 5 + kb])).toBe(true);
    }
  });

  it('threshold, ratio and coverage keep the most probable blocks, at least one per row', () => {
    expect(kept('threshold')).toEqual([[0], [0, 1], [0, 2], [0, 3], [0, 4]]);
    expect(kept('threshold', { threshold: 0.99 })).toEqual([[0], [1], [2], [3], [4]]);
    expect(kept('ratio')).toEqual([[0], [1], [0, 2], [0, 3], [0, 4]]);
    expect(kept('coverage')).toEqual([[0], [0, 1], [0, 2], [0, 3], [0, 4]]);
    expect(kept('ratio', { lastBlockDense: true })[4]).toEqual([0, 1, 2, 3, 4]);
  });

  it('pools blocks (a short last block too) with avg, max and min side by side', () => {
    const x = createHeadTensor(1, 5, 2, Float32Array.from([1, -1, 3, 0, 2, 5, -4, 2, 6, 1]));
    expect(Array.from(poolBlocks(x, 3, ['avg', 'max', 'min']))).toEqual([2, 4 / 3, 3, 5, 1, -1, 1, 1.5, 6, 2, -4, 1].map(Math.fround));
  });
});
