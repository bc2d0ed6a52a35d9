import { type BudgetProbe, budgetDirectionCase } from '@sparseland/conformance';
import { describe, expect, it } from 'vitest';
import { lowbitEstimators } from '../src/index.js';

// Each estimator says what its budget knob is (eval's --density matching and sweeps vary it), and the knob turns the
// way it says on a planted input: the denser setting keeps more pairs. Each case: fixed params, then two values of
// the knob in increasing order (the declaration says which of them is the denser one).

const cases: Record<string, BudgetProbe> = {
  sale: { params: { localWindow: 16 }, values: [0.001, 0.05] },
  paro: { values: [0.3, 0.95] },
};

describe('budget declarations', () => {
  it('every estimator declares its knob', () => {
    expect(lowbitEstimators.map((e) => [e.name, e.budget])).toEqual([
      ['sale', { param: 'threshold', denser: 'lower' }],
      ['paro', { param: 'coverage', denser: 'higher' }],
    ]);
    expect(lowbitEstimators.map((e) => e.name)).toEqual(Object.keys(cases));
  });

  it.each(lowbitEstimators.map((e) => [e.name, e] as const))('%s: the declared direction keeps more pairs', async (name, plugin) => {
    await budgetDirectionCase(plugin, cases[name]!).run();
  });
});
