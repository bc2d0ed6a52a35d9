import { countKeptPairs, type MaskShape, type PatternPlugin } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { patterns } from '../src/index.js';

// Every pattern says what its budget knob is (eval's --density matching and sweeps vary it), and the knob turns the
// way it says: the denser setting keeps more pairs. Each case: fixed params, then a sparser and a denser value.
const shape: MaskShape = { heads: 4, qLength: 512, kvLength: 512, qOffset: 0 };

const cases: Record<string, { readonly params?: Record<string, unknown>; readonly values: readonly [number, number] }> = {
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

function density(plugin: PatternPlugin, params: Record<string, unknown>): number {
  const instance = plugin.build(plugin.parseParams(params));
  const mask = instance.mask?.(shape, { blockQ: 32, blockK: 32 }) ?? instance.maskMod?.(shape);
  const { kept, total } = countKeptPairs(mask, shape, { causal: true });
  return kept / total;
}

describe('budget declarations', () => {
  it('every pattern declares one: a knob with a direction, or none', () => {
    for (const p of patterns) expect(p.budget, p.name).toBeDefined();
    expect(patterns.filter((p) => p.budget === 'none').map((p) => p.name)).toEqual(NO_KNOB);
    expect(patterns.filter((p) => p.budget !== 'none').map((p) => p.name)).toEqual(Object.keys(cases).sort(byOrderIn(patterns)));
  });

  it.each(patterns.filter((p) => typeof p.budget === 'object').map((p) => [p.name, p] as const))(
    '%s: the declared direction keeps more pairs',
    (name, plugin) => {
      const budget = plugin.budget as { param: string; denser: 'higher' | 'lower' };
      const c = cases[name];
      if (!c) throw new Error(`no case for ${name}`);
      const [a, b] = c.values.map((value) => density(plugin, { ...c.params, [budget.param]: value })) as [number, number];
      const [sparser, denser] = budget.denser === 'higher' ? [a, b] : [b, a];
      expect(denser).toBeGreaterThan(sparser);
    },
  );
});

function byOrderIn(list: readonly { name: string }[]) {
  const order = new Map(list.map((p, i) => [p.name, i]));
  return (x: string, y: string) => (order.get(x) ?? 0) - (order.get(y) ?? 0);
}
