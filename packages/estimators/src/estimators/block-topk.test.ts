import { randomHeadTensor } from '@sparseland/core';
import { referencePooledScores, resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { asArrays, estimate, expectedKeys, keptKeys, naiveCover, naiveTop } from '../../test/helpers.js';
import { blockTopk } from './block-topk.js';

const q = randomHeadTensor({ heads: 4, length: 60, dim: 8, seed: 5, scale: 2 });
const k = randomHeadTensor({ heads: 2, length: 97, dim: 8, seed: 6 });
const input = { q, k, v: k };
const shape = resolveAttentionShape(input);

/** Row softmax of the pooled scores (scale 1/√d), future blocks -Infinity. */
function probs(blockQ: number, blockK: number) {
  const s = referencePooledScores(input, { blockQ, blockK, scale: 1 / Math.sqrt(8), causal: true });
  const out: Float64Array[][] = [];
  for (let h = 0; h < shape.heads; h++) {
    const rows: Float64Array[] = [];
    for (let qb = 0; qb < s.qBlocks; qb++) {
      const row = Float64Array.from(s.data.subarray((h * s.qBlocks + qb) * s.kBlocks, (h * s.qBlocks + qb + 1) * s.kBlocks));
      const max = Math.max(...row);
      const sum = row.reduce((a, x) => a + Math.exp(x - max), 0);
      rows.push(row.map((x) => (x === -Infinity ? -Infinity : Math.exp(x - max) / sum)));
    }
    out.push(rows);
  }
  return out;
}

/** Key blocks holding the own keys of query block qb's rows (several when the block straddles key blocks). */
function ownBlocksOf(qb: number, blockQ: number, blockK: number): number[] {
  const first = Math.floor((shape.qOffset + qb * blockQ) / blockK);
  const last = Math.floor(Math.min(shape.kvLength - 1, shape.qOffset + Math.min(shape.qLength, (qb + 1) * blockQ) - 1) / blockK);
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

function blocksToKeys(blocks: Iterable<number>, blockK: number): number[] {
  const keys: number[] = [];
  for (const kb of blocks) for (let key = kb * blockK; key < (kb + 1) * blockK; key++) keys.push(key);
  return keys;
}

describe('block-topk', () => {
  it('top-k mode: the own blocks plus the best other blocks up to k per query block (twin)', async () => {
    for (const [blockQ, blockK, topK] of [
      [8, 8, 3],
      [16, 4, 6],
    ] as const) {
      const p = probs(blockQ, blockK);
      const { mask } = await estimate(blockTopk, { topK }, input, { blockQ, blockK });
      const want = expectedKeys(input, blockQ, true, (h, qb) => {
        const row = Float64Array.from((p[h] as Float64Array[])[qb] as Float64Array);
        const own = ownBlocksOf(qb, blockQ, blockK);
        for (const kb of own) row[kb] = -Infinity;
        return blocksToKeys([...own, ...naiveTop(row, Math.max(0, topK - own.length))], blockK);
      });
      expect(asArrays(keptKeys(mask, input))).toEqual(asArrays(want));
    }
  });

  it('cumulative mode: the fewest blocks whose softmax mass reaches the threshold, plus the own blocks (twin)', async () => {
    const [blockQ, blockK, threshold] = [16, 8, 0.7];
    const p = probs(blockQ, blockK);
    const { mask } = await estimate(blockTopk, { mode: 'cumulative', threshold }, input, { blockQ, blockK });
    const want = expectedKeys(input, blockQ, true, (h, qb) => {
      const row = (p[h] as Float64Array[])[qb] as Float64Array;
      return blocksToKeys([...ownBlocksOf(qb, blockQ, blockK), ...naiveTop(row, naiveCover(row, threshold))], blockK);
    });
    expect(asArrays(keptKeys(mask, input))).toEqual(asArrays(want));
  });

  it('global top-k spends topK blocks per query block on average across the head, not per row', async () => {
    const { mask } = await estimate(blockTopk, { topK: 3, global: true }, input, { blockQ: 8, blockK: 8 });
    const { mask: rowWise } = await estimate(blockTopk, { topK: 3 }, input, { blockQ: 8, blockK: 8 });
    const counts = (m: typeof mask) => Array.from({ length: 8 }, (_, qb) => m.blocks?.fullBlocks(0, qb).length ?? 0);
    expect(counts(mask).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3 * 8);
    expect(counts(mask)).not.toEqual(counts(rowWise));
  });

  it('larger budgets keep supersets (top-k and cumulative)', async () => {
    for (const [small, large] of [
      [{ topK: 2 }, { topK: 5 }],
      [
        { mode: 'cumulative', threshold: 0.5 },
        { mode: 'cumulative', threshold: 0.9 },
      ],
    ] as const) {
      const a = keptKeys((await estimate(blockTopk, small, input, { blockQ: 8, blockK: 8 })).mask, input);
      const b = keptKeys((await estimate(blockTopk, large, input, { blockQ: 8, blockK: 8 })).mask, input);
      a.forEach((rows, h) => rows.forEach((set, i) => set.forEach((key) => expect((b[h] as Set<number>[])[i]?.has(key)).toBe(true))));
    }
  });
});
