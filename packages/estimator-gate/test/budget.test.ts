import { plantedInputs, runEstimator } from '@sparseland/conformance';
import { countKeptPairs, createReferenceBackend, type EstimatorPlugin } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { gateEstimators } from '../src/index.js';

// Each estimator says what its budget knob is (eval's --density matching and sweeps vary it), and the knob turns the
// way it says on a planted input (untrained gates: no weights): the denser setting keeps more pairs. Each case: fixed params, then two values of
// the knob in increasing order (the declaration says which of them is the denser one).
const input = plantedInputs({ qHeads: 4, kvHeads: 2, qLength: 256, kvLength: 256, dim: 32 }, 5);
const shape = resolveAttentionShape(input);

const cases: Record<string, { readonly params?: Record<string, unknown>; readonly values: readonly [number, number] }> = {
  'seer-attention': { params: { lastBlockDense: false }, values: [0.02, 0.1] },
  sparsifiner: { params: { rank: 8, lastBlockDense: false }, values: [0.02, 0.1] },
  dma: { values: [32, 128] },
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
    expect(gateEstimators.map((e) => [e.name, e.budget])).toEqual([
      ['seer-attention', { param: 'threshold', denser: 'lower' }],
      ['sparsifiner', { param: 'threshold', denser: 'lower' }],
      ['dma', { param: 'keepWindowSize', denser: 'higher' }],
    ]);
    expect(gateEstimators.map((e) => e.name)).toEqual(Object.keys(cases));
  });

  it.each(gateEstimators.map((e) => [e.name, e] as const))('%s: the declared direction keeps more pairs', async (name, plugin) => {
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
