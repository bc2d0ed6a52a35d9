import { countKeptPairs, createRegistry, definePattern } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { testRegistry, windowPattern } from '../test/helpers.js';
import { budgetParam, matchDensity } from './budget.js';
import { syntheticWorkload } from './workloads/synthetic.js';
import { collectItems } from './workloads/workload.js';

describe('budgetParam', () => {
  it('takes the budget knob a plugin declares, with its range and direction from the params schema', () => {
    expect(budgetParam(testRegistry, 'window')).toEqual({ name: 'window', integer: true, min: 1, max: undefined, denser: 'higher' });
    expect(budgetParam(testRegistry, 'sink-window')).toEqual({ name: 'local', integer: true, min: 1, max: undefined, denser: 'higher' });
    expect(budgetParam(testRegistry, 'every-nth')).toEqual({ name: 'stride', integer: true, min: 1, max: 512, denser: 'lower' });
    // An explicit parameter overrides the declaration; its direction is then unknown (matchDensity measures it).
    expect(budgetParam(testRegistry, 'sink-window', 'sink')).toEqual({
      name: 'sink',
      integer: true,
      min: 0,
      max: undefined,
      denser: undefined,
    });
    expect(() => budgetParam(testRegistry, 'sink-window', 'width')).toThrow(/E_PARAMS.*no numeric parameter "width".*sink, local/);
    expect(() => budgetParam(testRegistry, 'windoww')).toThrow(/E_UNKNOWN_PLUGIN.*Did you mean "window"/);
  });

  it('asks for a parameter, with a coded error, when the plugin declares none (or declares that it has none)', () => {
    const params = z.object({ width: z.number().int().min(1).default(8), causal: z.boolean().default(true) }).strict();
    const build = () => ({ causal: true, maskMod: () => () => true });
    const silent = definePattern({ name: 'silent', summary: 'No declaration.', params, build });
    const fixed = definePattern({ name: 'fixed-width', summary: 'No budget.', params, budget: 'none', build });
    const registry = createRegistry({ plugins: [silent, fixed, windowPattern] });
    expect(() => budgetParam(registry, 'silent')).toThrow(
      /E_BUDGET.*pattern "silent" declares no budget parameter; pass one of its numeric parameters \(width\) as `param`, or declare `budget: \{ param, denser: 'higher' \| 'lower' \}` in its definePattern/,
    );
    expect(() => budgetParam(registry, 'fixed-width')).toThrow(
      /E_BUDGET.*"fixed-width" declares that it has no budget parameter; pass one of its numeric parameters \(width\)/,
    );
    expect(budgetParam(registry, 'silent', 'width')).toMatchObject({ name: 'width', min: 1, denser: undefined });
  });
});

describe('matchDensity', () => {
  it('reaches a target density by bisection, whichever way the parameter runs', async () => {
    const [item] = await collectItems(syntheticWorkload({ n: 700, seed: 1, heads: 2, kvHeads: 1, dim: 16, structure: { needles: 0 } }));
    const shape = { heads: 2, qLength: 700, kvLength: 700, qOffset: 0 };
    for (const target of [0.05, 0.25, 0.5]) {
      const w = await matchDensity({ registry: testRegistry, method: 'window', target, item: item! });
      expect(w.param).toBe('window');
      const counted = countKeptPairs((_h, q, k) => q - k < w.value, shape);
      expect(w.density).toBeCloseTo(counted.kept / counted.total, 12);
      expect(Math.abs(w.density - target)).toBeLessThan(0.01);
    }
    const s = await matchDensity({ registry: testRegistry, method: 'every-nth', target: 0.25, item: item! });
    expect(s.value).toBe(4);
    expect(s.density).toBeCloseTo(0.25, 1);
    // Held parameters stay fixed: 100 sinks already keep more than 5% of the pairs, so the closest is the smallest window.
    const sinks = await matchDensity({ registry: testRegistry, method: 'sink-window', params: { sink: 100 }, target: 0.05, item: item! });
    expect(sinks.value).toBe(1);
  });
});
