import { SparselandError } from '@sparseland/core';

/** One option of one unit (a head): what it costs and what it is worth. */
export interface Option {
  readonly cost: number;
  readonly value: number;
}

/**
 * Picks one option per unit to maximise the summed value with the mean cost at most `budget` (a multiple-choice
 * knapsack, MoA-style elastic allocation across heads). Lagrangian relaxation: for a price λ every unit takes the
 * option maximising value − λ·cost, and λ is bisected to the cheapest price that fits; the budget left over is then
 * spent greedily on the upgrades with the best value per cost. Returns the chosen option index per unit. Throws
 * E_BUDGET when even the cheapest options exceed the budget.
 */
export function allocate(units: readonly (readonly Option[])[], budget: number): number[] {
  const n = units.length;
  if (n === 0) return [];
  const limit = budget * n;
  const pick = (lambda: number): number[] =>
    units.map((options) => {
      let best = 0;
      for (let o = 1; o < options.length; o++) {
        const a = options[o] as Option;
        const b = options[best] as Option;
        const sa = a.value - lambda * a.cost;
        const sb = b.value - lambda * b.cost;
        if (sa > sb + 1e-15 || (Math.abs(sa - sb) <= 1e-15 && a.cost < b.cost)) best = o;
      }
      return best;
    });
  const total = (choice: number[]) => choice.reduce((acc, o, u) => acc + ((units[u] as Option[])[o] as Option).cost, 0);
  const cheapest = units.map((options) => options.reduce((best, o, i) => (o.cost < (options[best] as Option).cost ? i : best), 0));
  if (total(cheapest) > limit * (1 + 1e-12)) {
    throw new SparselandError(
      'E_BUDGET',
      `search budget ${budget} is below what the cheapest candidates cost on average (${(total(cheapest) / n).toFixed(4)}); raise the budget or add cheaper candidates`,
      { budget, cheapest: total(cheapest) / n },
    );
  }
  let choice = pick(0);
  if (total(choice) > limit) {
    let lo = 0;
    let hi = 1;
    while (total(pick(hi)) > limit && hi < 1e12) hi *= 2;
    for (let it = 0; it < 100; it++) {
      const mid = (lo + hi) / 2;
      if (total(pick(mid)) > limit) lo = mid;
      else hi = mid;
    }
    choice = pick(hi);
    if (total(choice) > limit) choice = cheapest;
  }
  // Spend what is left on the best value-per-cost upgrades that still fit.
  let spent = total(choice);
  for (;;) {
    let bestUnit = -1;
    let bestOption = -1;
    let bestRatio = 0;
    for (let u = 0; u < n; u++) {
      const options = units[u] as Option[];
      const current = options[choice[u] as number] as Option;
      for (let o = 0; o < options.length; o++) {
        const next = options[o] as Option;
        const dv = next.value - current.value;
        const dc = next.cost - current.cost;
        if (dv <= 0 || spent + dc > limit) continue;
        const ratio = dc <= 0 ? Infinity : dv / dc;
        if (ratio > bestRatio) {
          bestRatio = ratio;
          bestUnit = u;
          bestOption = o;
        }
      }
    }
    if (bestUnit < 0) return choice;
    const options = units[bestUnit] as Option[];
    spent += (options[bestOption] as Option).cost - (options[choice[bestUnit] as number] as Option).cost;
    choice[bestUnit] = bestOption;
  }
}
