import { createCpuBackend } from '@sparseland/backend-cpu';
import { type Backend, createReferenceBackend, randomHeadTensor } from '@sparseland/core';
import { createCostMeter, resolveAttentionShape } from '@sparseland/core/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eachScoreRows, pooledQueryScores, probeLastQuerySums, rowReductions, scoreMatrix, topKeys } from './backend-ops.js';
import { addFlops, dotFlops } from './flops.js';

function naiveProduct(a: ReturnType<typeof randomHeadTensor>, b: ReturnType<typeof randomHeadTensor>, scale: number): Float64Array {
  const out = new Float64Array(a.heads * a.length * b.length);
  for (let h = 0; h < a.heads; h++) {
    const g = Math.floor(h / (a.heads / b.heads));
    for (let i = 0; i < a.length; i++) {
      for (let j = 0; j < b.length; j++) {
        let s = 0;
        for (let c = 0; c < a.dim; c++)
          s += (a.data[(h * a.length + i) * a.dim + c] as number) * (b.data[(g * b.length + j) * a.dim + c] as number);
        out[(h * a.length + i) * b.length + j] = s * scale;
      }
    }
  }
  return out;
}

describe.each([
  ['reference', () => createReferenceBackend(), 1e-6],
  ['cpu', () => createCpuBackend({ threads: 2 }), 2e-4],
] as const)('backend ops on the %s backend', (_name, make, tol) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await make();
  });
  afterAll(async () => backend.dispose());

  it('scoreMatrix is the scaled product with GQA head mapping, whole or cut into small calls, and counts 2·d per product', async () => {
    const a = randomHeadTensor({ heads: 6, length: 13, dim: 7, seed: 1 });
    const b = randomHeadTensor({ heads: 3, length: 11, dim: 7, seed: 2 });
    const want = naiveProduct(a, b, 0.5);
    for (const limit of [1 << 23, 40, 1]) {
      const cost = createCostMeter();
      const got = await scoreMatrix({ backend, cost, seed: 0, layer: 0, blockQ: 8, blockK: 8 }, a, b, 0.5, limit);
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++)
        expect(Math.abs((got[i] as number) - (want[i] as number))).toBeLessThan(tol * (1 + Math.abs(want[i] as number)));
      expect(cost.total).toBe(2 * 7 * 6 * 13 * 11);
    }
  });

  it('eachScoreRows streams the same product in row chunks of every head, each row once, counted once', async () => {
    const a = randomHeadTensor({ heads: 6, length: 13, dim: 7, seed: 1 });
    const b = randomHeadTensor({ heads: 3, length: 11, dim: 7, seed: 2 });
    const want = naiveProduct(a, b, 0.5);
    for (const limit of [1 << 23, 40, 1]) {
      const cost = createCostMeter();
      const seen = new Int32Array(6 * 13);
      const starts: number[] = [];
      const ctx = { backend, cost, seed: 0, layer: 0, blockQ: 8, blockK: 8 };
      await eachScoreRows(
        ctx,
        a,
        b,
        0.5,
        (r0, rows, data) => {
          starts.push(r0);
          expect(data.length).toBe(6 * rows * 11);
          for (let h = 0; h < 6; h++) {
            for (let r = 0; r < rows; r++) {
              seen[h * 13 + r0 + r] = (seen[h * 13 + r0 + r] as number) + 1;
              for (let j = 0; j < 11; j++) {
                const w = want[(h * 13 + r0 + r) * 11 + j] as number;
                expect(Math.abs((data[(h * rows + r) * 11 + j] as number) - w)).toBeLessThan(tol * (1 + Math.abs(w)));
              }
            }
          }
        },
        limit,
      );
      // A row of every head is 6 × 11 = 66 scores: a limit of 40 (or 1) still takes one row per call.
      expect(starts).toEqual(limit === 1 << 23 ? [0] : Array.from({ length: 13 }, (_, i) => i));
      expect(Array.from(seen).every((x) => x === 1)).toBe(true);
      expect(cost.total).toBe(2 * 7 * 6 * 13 * 11);
    }
  });

  it('the probe reports the dot products it makes and the additions of its two sums', async () => {
    const q = randomHeadTensor({ heads: 4, length: 9, dim: 8, seed: 3 });
    const k = randomHeadTensor({ heads: 2, length: 20, dim: 8, seed: 4 });
    const shape = resolveAttentionShape({ q, k, v: k });
    const cost = createCostMeter();
    const ctx = { backend, cost, seed: 0, layer: 0, blockQ: 4, blockK: 4 };
    const probe = await probeLastQuerySums({ q, k, shape, causal: true }, ctx, 3);
    expect(probe.rows).toBe(3);
    // Rows at positions 17, 18, 19 see 18 + 19 + 20 keys, for 4 heads, 2·8 FLOPs each; 4 × 3 × 20 values go into
    // each of the two sums.
    expect(cost.total).toBe(4 * (18 + 19 + 20) * 16 + 2 * 4 * 3 * 20);
    // Each row's probabilities sum to 1: the columns of a head hold the rows' total, as do its diagonals.
    const total = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
    expect(total(probe.vertical.subarray(0, 20))).toBeCloseTo(3, 5);
    expect(total(probe.slash.subarray(0, probe.slashLength))).toBeCloseTo(3, 5);
  });

  it('pooledQueryScores: mean-pooled query blocks against the keys each sees, reduced by the backend, counted once', async () => {
    const q = randomHeadTensor({ heads: 4, length: 9, dim: 8, seed: 5 });
    const k = randomHeadTensor({ heads: 2, length: 20, dim: 8, seed: 6 });
    const qOffset = 11;
    // Query blocks of 4 rows end at positions 14, 18, 19.
    const lastPos = (qb: number) => qOffset + Math.min(9, (qb + 1) * 4) - 1;
    const want = (h: number, qb: number, j: number) => {
      const g = Math.floor(h / 2);
      let s = 0;
      for (let i = qb * 4; i < Math.min(9, (qb + 1) * 4); i++)
        for (let c = 0; c < 8; c++) s += (q.data[(h * 9 + i) * 8 + c] as number) * (k.data[(g * 20 + j) * 8 + c] as number);
      return (0.5 * s) / (Math.min(9, (qb + 1) * 4) - qb * 4);
    };
    const cost = createCostMeter();
    const ctx = { backend, cost, seed: 0, layer: 0, blockQ: 4, blockK: 4 };
    const { max, moments } = await pooledQueryScores({ q, k, qOffset, causal: true }, ctx, 4, 0.5, { max: true, moments: true });
    for (let h = 0; h < 4; h++) {
      for (let qb = 0; qb < 3; qb++) {
        const visible = Array.from({ length: lastPos(qb) + 1 }, (_, j) => want(h, qb, j));
        const best = Math.max(...visible);
        expect(Math.abs((max?.values[h * 3 + qb] as number) - best)).toBeLessThan(tol * (1 + Math.abs(best)));
        expect(max?.indices[h * 3 + qb]).toBe(visible.indexOf(best));
        expect(moments?.count[h * 3 + qb]).toBe(lastPos(qb) + 1);
      }
    }
    expect(cost.total).toBe(addFlops(4 * 9 * 8) + dotFlops(4 * (15 + 19 + 20), 8));
    // A second pass over the same scores is not counted again.
    await pooledQueryScores({ q, k, qOffset, causal: true }, ctx, 4, 0.5, { max: true }, false);
    expect(cost.total).toBe(addFlops(4 * 9 * 8) + dotFlops(4 * (15 + 19 + 20), 8));
  });

  it('topKeys and rowReductions: the backend row selections, counted as the full product by rowReductions', async () => {
    const a = randomHeadTensor({ heads: 2, length: 5, dim: 8, seed: 7 });
    const b = randomHeadTensor({ heads: 1, length: 30, dim: 8, seed: 8 });
    const product = naiveProduct(a, b, 1);
    const cost = createCostMeter();
    const ctx = { backend, cost, seed: 0, layer: 0, blockQ: 4, blockK: 4 };
    const top = await topKeys(ctx, { q: a, k: b, qOffset: 0 }, { causal: false, keys: { start: 3, count: 20 } }, 4);
    const { min } = await rowReductions(ctx, a, b, { min: true });
    expect(cost.total).toBe(dotFlops(2 * 5 * 30, 8));
    for (let row = 0; row < 10; row++) {
      const values = Array.from(product.subarray(row * 30, row * 30 + 30));
      const order = values
        .map((v, j) => ({ v, j }))
        .filter((e) => e.j >= 3 && e.j < 23)
        .sort((x, y) => y.v - x.v);
      expect(Array.from(top.indices.subarray(row * 4, row * 4 + 4))).toEqual(order.slice(0, 4).map((e) => e.j));
      expect(min?.indices[row]).toBe(values.indexOf(Math.min(...values)));
    }
  });
});
