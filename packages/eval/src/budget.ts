import {
  type AttentionShape,
  type Backend,
  compileRecipe,
  countKeptPairs,
  createReferenceBackend,
  paramsJsonSchema,
  type Registry,
  SparselandError,
} from '@sparseland/core';
import { createCostMeter, expectNumber, resolveAttentionShape } from '@sparseland/core/kit';
import { findMethod } from './find-method.js';
import type { WorkloadItem } from './workloads/workload.js';

/** A method's budget parameter: the knob that trades density for recall, with the range it may take. */
export interface BudgetParam {
  readonly name: string;
  readonly integer: boolean;
  readonly min: number;
  /** Undefined for unbounded integer parameters (token counts): the sequence length bounds them. */
  readonly max: number | undefined;
}

/**
 * Parameter names that set a method's budget, most specific first. The first one a method's schema has is its
 * budget parameter (`sparseland eval --sweep` varies it). Methods whose knob has another name pass it explicitly.
 */
export const BUDGET_PARAM_NAMES: readonly string[] = [
  'density',
  'budget',
  'tokenBudget',
  'window',
  'windowSize',
  'local',
  'localWindow',
  'recent',
  'topK',
  'topk',
  'k',
  'keep',
  'gamma',
  'threshold',
  'ratio',
  'blocks',
  'stride',
];

interface JsonSchemaNumber {
  readonly type?: string;
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
  readonly maximum?: number;
  readonly exclusiveMaximum?: number;
}

/** The budget parameter of a registered pattern or estimator: `param` if given (checked), else the first known name. */
export function budgetParam(registry: Registry, method: string, param?: string): BudgetParam {
  const plugin = findMethod(registry, method);
  const schema = paramsJsonSchema(plugin.params) as { properties?: Record<string, JsonSchemaNumber> };
  const properties = schema.properties ?? {};
  const numeric = Object.entries(properties).filter(([, p]) => p.type === 'integer' || p.type === 'number');
  const pick = param ?? BUDGET_PARAM_NAMES.find((name) => numeric.some(([key]) => key === name));
  const found = numeric.find(([key]) => key === pick);
  if (!found) {
    const names = numeric.map(([key]) => key);
    throw new SparselandError(
      'E_PARAMS',
      param
        ? `${method} has no numeric parameter "${param}"; its numeric parameters are: ${names.join(', ') || '(none)'}`
        : `${method} has no parameter known to set its budget (${BUDGET_PARAM_NAMES.join(', ')}); name one of ${names.join(', ') || '(none)'} explicitly`,
      { method, param, numeric: names },
    );
  }
  const [name, p] = found;
  const integer = p.type === 'integer';
  const min = p.minimum ?? (p.exclusiveMinimum !== undefined ? p.exclusiveMinimum + (integer ? 1 : 1e-6) : 0);
  const stated = p.maximum ?? (p.exclusiveMaximum !== undefined ? p.exclusiveMaximum - (integer ? 1 : 1e-6) : undefined);
  // zod writes Number.MAX_SAFE_INTEGER as the maximum of a plain int: that means unbounded.
  const max = stated !== undefined && stated < 2 ** 31 ? stated : integer ? undefined : 1;
  return { name, integer, min, max };
}

export interface MatchDensityOptions {
  readonly registry: Registry;
  readonly method: string;
  /** The budget parameter (default: inferred with `budgetParam`). */
  readonly param?: string;
  /** Other parameters, held fixed. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** Target density in (0, 1]. */
  readonly target: number;
  /** The item masks are built for (patterns only use its shape; estimators look at Q and K). */
  readonly item: WorkloadItem;
  readonly backend?: Backend;
  readonly causal?: boolean;
}

export interface MatchedBudget {
  readonly param: string;
  readonly value: number;
  /** The density the value gives on the item (the closest reachable to the target). */
  readonly density: number;
}

/**
 * Finds the budget value whose mask has the density closest to `target` on `item`, by bisection (density must be
 * monotone in the parameter, either way). Patterns cost a mask build per step; estimators also run their estimate.
 */
export async function matchDensity(options: MatchDensityOptions): Promise<MatchedBudget> {
  const target = expectNumber(options.target, 'target density', 1e-9, 1);
  const budget = budgetParam(options.registry, options.method, options.param);
  const input = { q: options.item.q, k: options.item.k, v: options.item.v, qOffset: options.item.qOffset };
  const shape = resolveAttentionShape(input, { checkFinite: false });
  const causal = options.causal ?? true;
  const backend = options.backend ?? createReferenceBackend();
  const densityAt = async (value: number): Promise<number> => {
    const recipe = compileRecipe({ method: options.method, params: { ...options.params, [budget.name]: value } }, options.registry);
    const built = await recipe.build({
      input: { q: input.q, k: input.k, v: input.v, shape, causal },
      backend,
      cost: createCostMeter(),
      seed: 0,
      layer: options.item.layer,
    });
    const mask = built.mask === 'dense' ? undefined : built.mask;
    const { kept, total } = countKeptPairs(mask, shape, { causal });
    return total === 0 ? 0 : kept / total;
  };
  const lo = budget.min;
  const hi = budget.max ?? upperTokenBound(shape);
  let a = { value: lo, density: await densityAt(lo) };
  let b = { value: hi, density: await densityAt(hi) };
  const increasing = b.density >= a.density;
  const steps = budget.integer ? Math.ceil(Math.log2(Math.max(2, hi - lo))) + 1 : 30;
  for (let s = 0; s < steps; s++) {
    if (budget.integer && b.value - a.value <= 1) break;
    const mid = budget.integer ? Math.floor((a.value + b.value) / 2) : (a.value + b.value) / 2;
    const m = { value: mid, density: await densityAt(mid) };
    if (m.density < target === increasing) a = m;
    else b = m;
  }
  const best = Math.abs(a.density - target) <= Math.abs(b.density - target) ? a : b;
  return { param: budget.name, value: best.value, density: best.density };
}

/** Token-count parameters never need to exceed the key length. */
function upperTokenBound(shape: AttentionShape): number {
  return Math.max(1, shape.kvLength);
}
