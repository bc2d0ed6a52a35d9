import { describe, expect, it } from 'vitest';
import { randomHeadTensor } from '../tensor/head-tensor.js';
import { resolveLastQueriesCall, resolvePooledScoresCall, resolveQuantizedScoresCall } from './op-options.js';

const q = randomHeadTensor({ heads: 4, length: 10, dim: 8, seed: 1 });
const k = randomHeadTensor({ heads: 2, length: 13, dim: 8, seed: 2 });

describe('estimator-op option resolvers (shared by the reference and every backend)', () => {
  it('fill defaults and derive block counts', () => {
    const pooled = resolvePooledScoresCall({ q, k }, { blockQ: 4, blockK: 5 });
    expect([pooled.qBlocks, pooled.kBlocks, pooled.qPool, pooled.kPool, pooled.scale, pooled.causal]).toEqual([
      3,
      3,
      'mean',
      'mean',
      1,
      true,
    ]);
    expect(pooled.shape.qOffset).toBe(3);
    const last = resolveLastQueriesCall({ q, k }, { count: 50 });
    expect([last.count, last.rowStart, last.scale]).toEqual([10, 0, 1 / Math.sqrt(8)]);
    const quant = resolveQuantizedScoresCall({ q, k }, { bits: 4, rows: { start: 7, count: 3 } });
    expect([quant.qmax, quant.rowStart, quant.rows, quant.smoothK, quant.pool]).toEqual([7, 7, 3, true, undefined]);
    const pooledQuant = resolveQuantizedScoresCall({ q, k }, { bits: 8, rows: { start: 9, count: 1 }, pool: { blockQ: 4, blockK: 4 } });
    expect([pooledQuant.rowStart, pooledQuant.rows, pooledQuant.pool?.qBlocks, pooledQuant.pool?.kBlocks]).toEqual([0, 10, 3, 4]);
  });

  it('reject bad options with E_PARAMS naming the option', () => {
    expect(() => resolvePooledScoresCall({ q, k }, { blockQ: 0, blockK: 4 })).toThrow(/E_PARAMS.*blockQ must be an integer >= 1, got 0/);
    expect(() => resolvePooledScoresCall({ q, k }, { blockQ: 4, blockK: 4, qPool: 'median' as never })).toThrow(
      /qPool must be one of mean, max, min/,
    );
    expect(() => resolveLastQueriesCall({ q, k }, { count: 0 })).toThrow(/count must be an integer >= 1/);
    expect(() => resolveQuantizedScoresCall({ q, k }, { bits: 2 as never })).toThrow(/bits must be 8 or 4, got 2/);
    expect(() => resolveQuantizedScoresCall({ q, k }, { bits: 8, rows: { start: 8, count: 3 } })).toThrow(
      /rows.count must be an integer in \[1, 2\]/,
    );
    expect(() => resolveQuantizedScoresCall({ q, k }, { bits: 8, pool: { blockQ: 4, blockK: -1 } })).toThrow(/pool.blockK/);
    expect(() => resolvePooledScoresCall({ q: k, k: q }, { blockQ: 4, blockK: 4 })).toThrow(/E_SHAPE.*multiple of kv heads/);
  });
});
