import { type BudgetProbe, budgetDirectionCase } from '@sparseland/conformance';
import { describe, expect, it } from 'vitest';
import { patterns } from '../src/index.js';

// Every pattern says what its budget knob is (eval's --density matching and sweeps vary it), and the knob turns the
// way it says: the denser setting keeps more pairs (the conformance kit's budget case). Each case: fixed params, then
// two values of the knob in increasing order.

const cases: Record<string, BudgetProbe> = {
  'sliding-window': { values: [16, 64] },
  'dilated-window': { params: { dilation: 2 }, values: [16, 64] },
  'a-shape': { params: { sink: 4 }, values: [16, 64] },
  'tri-shape': { params: { sink: 4, last: 16 }, values: [16, 64] },
  fixed: { params: { stride: 32 }, values: [2, 8] },
  longformer: { params: { globalTokens: [0] }, values: [16, 64] },
  bigbird: { params: { blockSize: 16 }, values: [0, 3] },
  neighborhood: { values: [7, 31] },
  's2-attention': { params: { blockSize: 16 }, values: [1, 4] },
  'power-attention': { params: { blockSize: 16 }, values: [1, 4] },
  radial: { params: { tokensPerFrame: 32, minWindow: 4 }, values: [0.2, 1] },
  'sparse-vdit': { params: { tokensPerFrame: 64 }, values: [2, 8] },
  grid: { params: { stride: 32 }, values: [0, 16] },
};

/** Patterns whose density no single parameter sets (see the comment at each `budget: 'none'`). */
const NO_KNOB = ['full', 'causal', 'strided', 'moa', 'combiner', 'alibi', 'relative-bias', 'selective-temperature'];

describe('budget declarations', () => {
  it('every pattern declares one: a knob with a direction, or none', () => {
    for (const p of patterns) expect(p.budget, p.name).toBeDefined();
    expect(patterns.filter((p) => p.budget === 'none').map((p) => p.name)).toEqual(NO_KNOB);
    expect(patterns.filter((p) => p.budget !== 'none').map((p) => p.name)).toEqual(Object.keys(cases).sort(byOrderIn(patterns)));
  });

  it.each(patterns.filter((p) => typeof p.budget === 'object').map((p) => [p.name, p] as const))(
    '%s: the declared direction keeps more pairs',
    async (name, plugin) => {
      const probe = cases[name];
      if (!probe) throw new Error(`no case for ${name}`);
      await budgetDirectionCase(plugin, probe).run();
    },
  );
});

function byOrderIn(list: readonly { name: string }[]) {
  const order = new Map(list.map((p, i) => [p.name, i]));
  return (x: string, y: string) => (order.get(x) ?? 0) - (order.get(y) ?? 0);
}
