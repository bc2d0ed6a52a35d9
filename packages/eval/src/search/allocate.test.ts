import { SparselandError } from '@sparseland/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate, type Option } from './allocate.js';

const instance = fc.array(
  fc.array(fc.record({ cost: fc.double({ min: 0, max: 1, noNaN: true }), value: fc.double({ min: 0, max: 1, noNaN: true }) }), {
    minLength: 1,
    maxLength: 4,
  }),
  { minLength: 1, maxLength: 4 },
);

function bruteForce(units: Option[][], budget: number): number {
  let best = -Infinity;
  const walk = (u: number, cost: number, value: number) => {
    if (cost > budget * units.length + 1e-12) return;
    if (u === units.length) {
      best = Math.max(best, value);
      return;
    }
    for (const o of units[u] as Option[]) walk(u + 1, cost + o.cost, value + o.value);
  };
  walk(0, 0, 0);
  return best;
}

describe('allocate', () => {
  it('stays within the budget, never does worse than the cheapest choice, and is close to the optimum', () => {
    fc.assert(
      fc.property(
        instance,
        fc.integer({ min: 0, max: 1000 }).map((x) => x / 1000),
        (units, budget) => {
          const cheapest = units.reduce((a, options) => a + Math.min(...options.map((o) => o.cost)), 0) / units.length;
          if (cheapest > budget * (1 + 1e-9)) {
            expect(() => allocate(units, budget)).toThrow(SparselandError);
            return;
          }
          const choice = allocate(units, budget);
          const cost = choice.reduce((a, o, u) => a + ((units[u] as Option[])[o] as Option).cost, 0);
          const value = choice.reduce((a, o, u) => a + ((units[u] as Option[])[o] as Option).value, 0);
          expect(cost).toBeLessThanOrEqual(budget * units.length + 1e-9);
          const optimum = bruteForce(units, budget);
          // Lagrangian plus greedy filling: within one option's value of the optimum.
          expect(value).toBeGreaterThanOrEqual(optimum - 1 - 1e-9);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives the budget to the heads that gain most from it (elastic allocation)', () => {
    const easy = [
      { cost: 0.05, value: 0.95 },
      { cost: 0.2, value: 0.97 },
    ];
    const hard = [
      { cost: 0.05, value: 0.6 },
      { cost: 0.2, value: 0.95 },
    ];
    expect(allocate([easy, hard, easy, hard], 0.125)).toEqual([0, 1, 0, 1]);
    expect(allocate([easy, hard], 1)).toEqual([1, 1]);
    expect(() => allocate([easy], 0.01)).toThrow(/cheapest candidates/);
  });
});
