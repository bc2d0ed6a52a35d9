import { countKeptPairs, createReferenceBackend, type EstimatorPlugin, type MaskShape, type PatternPlugin } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import type { PluginCase } from './case.js';
import { plantedInputs, runEstimator } from './estimator-cases.js';

/** Two values of a plugin's budget knob, in increasing order, and the other parameters held fixed while it turns. */
export interface BudgetProbe {
  readonly params?: Readonly<Record<string, unknown>>;
  readonly values: readonly [number, number];
}

export const BUDGET_CASE_NAME = 'budget: the declared direction keeps more pairs';

// Small enough that every built-in plugin runs in milliseconds on the float64 reference; 512 positions for patterns
// (their knobs are window sizes of tens of tokens), a planted 256-position input for estimators.
const PATTERN_SHAPE: MaskShape = { heads: 4, qLength: 512, kvLength: 512, qOffset: 0 };
const PATTERN_BLOCKS = { blockQ: 32, blockK: 32 } as const;
const ESTIMATOR_INPUT = plantedInputs({ qHeads: 4, kvHeads: 2, qLength: 256, kvLength: 256, dim: 32 }, 5);
const ESTIMATOR_BLOCKS = { blockQ: 16, blockK: 16 } as const;

/**
 * The case that holds a plugin to its `budget` declaration: eval's density matching and sweeps turn the declared
 * parameter, so the value the declaration calls denser must keep more causal pairs than the other one. `probe` names
 * two values (increasing) and any parameters the knob needs fixed to matter at the kit's small sizes.
 */
export function budgetDirectionCase(plugin: PatternPlugin | EstimatorPlugin, probe: BudgetProbe): PluginCase {
  return {
    name: BUDGET_CASE_NAME,
    async run() {
      const budget = plugin.budget;
      if (typeof budget !== 'object') throw new Error(`${plugin.name} declares no budget knob (budget: ${String(budget)})`);
      const [low, high] = probe.values;
      if (!(low < high)) throw new Error(`probe values must increase, got [${low}, ${high}]`);
      const a = await densityAt(plugin, { ...probe.params, [budget.param]: low });
      const b = await densityAt(plugin, { ...probe.params, [budget.param]: high });
      const [sparser, denser] = budget.denser === 'higher' ? [a, b] : [b, a];
      if (!(denser > sparser)) {
        throw new Error(
          `${plugin.name} says a ${budget.denser} ${budget.param} is denser, but ${budget.param} = ${low} keeps ${a.toFixed(4)} ` +
            `of the causal pairs and ${budget.param} = ${high} keeps ${b.toFixed(4)}`,
        );
      }
    },
  };
}

async function densityAt(plugin: PatternPlugin | EstimatorPlugin, params: Record<string, unknown>): Promise<number> {
  let mask: Parameters<typeof countKeptPairs>[0];
  let shape: MaskShape;
  if (plugin.kind === 'pattern') {
    const instance = plugin.build(plugin.parseParams(params));
    shape = PATTERN_SHAPE;
    mask = instance.mask?.(shape, PATTERN_BLOCKS) ?? instance.maskMod?.(shape);
  } else {
    shape = resolveAttentionShape(ESTIMATOR_INPUT);
    const run = await runEstimator(plugin, params, ESTIMATOR_INPUT, {
      backend: createReferenceBackend(),
      causal: true,
      seed: 0,
      ...ESTIMATOR_BLOCKS,
    });
    mask = run.mask;
  }
  const { kept, total } = countKeptPairs(mask, shape, { causal: true });
  return kept / total;
}
