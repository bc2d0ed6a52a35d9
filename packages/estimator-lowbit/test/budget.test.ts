import { plantedInputs, runEstimator } from '@sparseland/conformance';
import { countKeptPairs, createReferenceBackend, type EstimatorPlugin } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { lowbitEstimators } from '../src/index.js';

// Each estimator says what its budget knob is (eval's --density matching and sweeps vary it), and the knob turns the
// way it says on a planted input: the denser setting keeps more pairs. Each case: fixed params, then two values of
// the knob in increasing order (the declaration says which of them is the denser one).
const input = plantedInputs({ qHeads: 4, kvHeads: 2, qLength: 256, kvLength: 256, dim: 32 }, 5);
const shape = resolveAttentionShape(input);

const cases: Record<string, { readonly params?: Record<string, unknown>; readonly values: readonly [number, number] }> = {
  sale: { params: { localWindow: 16 }, values: [0.001, 0.05] },
  paro: { values: [0.3, 0.95] },
};

async function density(plugin: EstimatorPlugin, params: Record<string, unknown>): Promise<number> {
  const { mask } = await runEstimator(plugin, params, input, {
    backend: createReferenceBackend(),
    causal: true,
    blockQ: 16,
    blockK: 16,
    seed: 0,
  });
  const { kept, total } = countKeptPairs(mask, shape, { causal: true });
  return kept / total;
}

describe('budget declarations', () => {
  it('every estimator declares its knob', () => {
    expect(lowbitEstimators.map((e) => [e.name, e.budget])).toEqual([
      ['sale', { param: 'threshold', denser: 'lower' }],
      ['paro', { param: 'coverage', denser: 'higher' }],
    ]);
    expect(lowbitEstimators.map((e) => e.name)).toEqual(Object.keys(cases));
  });

  it.each(lowbitEstimators.map((e) => [e.name, e] as const))('%s: the declared direction keeps more pairs', async (name, plugin) => {
    const budget = plugin.budget as { param: string; denser: 'higher' | 'lower' };
    const c = cases[name]!;
    const [a, b] = [
      await density(plugin, { ...c.params, [budget.param]: c.values[0] }),
      await density(plugin, { ...c.params, [budget.param]: c.values[1] }),
    ];
    const [sparser, denser] = budget.denser === 'higher' ? [a, b] : [b, a];
    expect(denser).toBeGreaterThan(sparser);
  });
});
