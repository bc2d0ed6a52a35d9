import { type BudgetProbe, budgetDirectionCase } from '@sparseland/conformance';
import { describe, expect, it } from 'vitest';
import { gateEstimators } from '../src/index.js';

// Each estimator says what its budget knob is (eval's --density matching and sweeps vary it), and the knob turns the
// way it says on a planted input (untrained gates: no weights): the denser setting keeps more pairs. Each case: fixed params, then two values of
// the knob in increasing order (the declaration says which of them is the denser one).

const cases: Record<string, BudgetProbe> = {
  'seer-attention': { params: { lastBlockDense: false }, values: [0.02, 0.1] },
  sparsifiner: { params: { rank: 8, lastBlockDense: false }, values: [0.02, 0.1] },
  dma: { values: [32, 128] },
};

describe('budget declarations', () => {
  it('every estimator declares its knob', () => {
    expect(gateEstimators.map((e) => [e.name, e.budget])).toEqual([
      ['seer-attention', { param: 'threshold', denser: 'lower' }],
      ['sparsifiner', { param: 'threshold', denser: 'lower' }],
      ['dma', { param: 'keepWindowSize', denser: 'higher' }],
    ]);
    expect(gateEstimators.map((e) => e.name)).toEqual(Object.keys(cases));
  });

  it.each(gateEstimators.map((e) => [e.name, e] as const))('%s: the declared direction keeps more pairs', async (name, plugin) => {
    await budgetDirectionCase(plugin, cases[name]!).run();
  });
});
