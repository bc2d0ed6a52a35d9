import { type BudgetProbe, budgetDirectionCase } from '@sparseland/conformance';
import { describe, expect, it } from 'vitest';
import { estimators } from '../src/index.js';

// Every estimator says what its budget knob is (eval's --density matching and sweeps vary it), and the knob turns the
// way it says on a planted input: the denser setting keeps more pairs. Each case: fixed params (small enough for
// 256 positions), then two values of the knob in increasing order (the conformance kit's budget case).

const cases: Record<string, BudgetProbe> = {
  'vertical-slash': { params: { vertical: 30, sinkColumns: 0, localDiagonals: 4, lastQ: 16 }, values: [50, 150] },
  'block-sparse': { values: [2, 6] },
  flexprefill: { params: { lastQ: 16 }, values: [0.5, 0.95] },
  'block-topk': { values: [2, 6] },
  moba: { params: { chunkSize: 16 }, values: [1, 4] },
  biformer: { params: { regions: 16 }, values: [2, 6] },
  hip: { params: { sinkTokens: 2, windowTokens: 8 }, values: [16, 64] },
  hyperattention: { params: { minSeqLen: 32, sampleSize: 0 }, values: [8, 32] },
  routing: { params: { localWindow: 0 }, values: [8, 32] },
  'reformer-lsh': { values: [8, 32] },
  anchor: { params: { initTokens: 2, localTokens: 4 }, values: [1, 6] },
  sea: { params: { width: 32 }, values: [2, 8] },
  'spark-topk': { values: [16, 64] },
  'double-sparsity': { params: { groupFactor: 4 }, values: [16, 64] },
  zipvl: { params: { lastQ: 16 }, values: [0.5, 0.95] },
};

describe('budget declarations', () => {
  it('every estimator declares its knob', () => {
    for (const e of estimators) expect(typeof e.budget === 'object' && typeof e.budget.param === 'string', e.name).toBe(true);
    expect(estimators.map((e) => e.name)).toEqual(Object.keys(cases));
  });

  it.each(estimators.map((e) => [e.name, e] as const))('%s: the declared direction keeps more pairs', async (name, plugin) => {
    await budgetDirectionCase(plugin, cases[name]!).run();
  });
});
