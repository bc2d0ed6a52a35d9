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
  /** Which way keeps more pairs, as the plugin declares it; undefined for a parameter it does not declare. */
  readonly denser: 'higher' | 'lower' | undefined;
}

interface JsonSchemaNumber {
  readonly type?: string;
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
  readonly maximum?: number;
  readonly exclusiveMaximum?: number;
  readonly anyOf?: readonly JsonSchemaNumber[];
}

/**
 * The budget parameter of a registered pattern or estimator: the one its plugin declares (`budget: { param, denser }`
 * in definePattern / defineEstimator), or `param` when given (any numeric parameter). Throws E_BUDGET when the plugin
 * declares no budget parameter and none is named, E_PARAMS when `param` is not one of its numeric parameters.
 */
export function budgetParam(registry: Registry, method: string, param?: string): BudgetParam {
  const plugin = findMethod(registry, method);
  const schema = paramsJsonSchema(plugin.params) as { properties?: Record<string, JsonSchemaNumber> };
  const numeric = Object.entries(schema.properties ?? {}).flatMap(([key, p]) => {
    const branch = p.type === 'integer' || p.type === 'number' ? p : p.anyOf?.find((b) => b.type === 'integer' || b.type === 'number');
    return branch ? [[key, branch] as const] : [];
  });
  const names = numeric.map(([key]) => key).join(', ') || '(none)';
  const declared = typeof plugin.budget === 'object' ? plugin.budget : undefined;
  if (param === undefined && declared === undefined) {
    const why = plugin.budget === 'none' ? 'declares that it has no budget parameter' : 'declares no budget parameter';
    throw new SparselandError(
      'E_BUDGET',
      `${plugin.kind} "${method}" ${why}; pass one of its numeric parameters (${names}) as \`param\`, or declare \`budget: { param, denser: 'higher' | 'lower' }\` in its ${plugin.kind === 'pattern' ? 'definePattern' : 'defineEstimator'}`,
      { method, budget: plugin.budget ?? null, numeric: numeric.map(([key]) => key) },
    );
  }
  const pick = param ?? declared?.param;
  const found = numeric.find(([key]) => key === pick);
  if (!found) {
    throw new SparselandError('E_PARAMS', `${method} has no numeric parameter "${pick}"; its numeric parameters are: ${names}`, {
      method,
      param: pick,
      numeric: numeric.map(([key]) => key),
    });
  }
  const [name, p] = found;
  const integer = p.type === 'integer';
  const min = p.minimum ?? (p.exclusiveMinimum !== undefined ? p.exclusiveMinimum + (integer ? 1 : 1e-6) : 0);
  const stated = p.maximum ?? (p.exclusiveMaximum !== undefined ? p.exclusiveMaximum - (integer ? 1 : 1e-6) : undefined);
  // zod writes Number.MAX_SAFE_INTEGER as the maximum of a plain int: that means unbounded.
  const max = stated !== undefined && stated < 2 ** 31 ? stated : integer ? undefined : 1;
  return { name, integer, min, max, denser: declared?.param === name ? declared.denser : undefined };
}

export interface MatchDensityOptions {
  readonly registry: Registry;
  readonly method: string;
  /** The budget parameter (default: the one the plugin declares, see `budgetParam`). */
  readonly param?: string;
  /** Other parameters, held fixed. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** Target density in (0, 1]. */
  readonly target: number;
  /** The item masks are built for (patterns only use its shape; estimators look at Q and K). */
  readonly item: WorkloadItem;
  readonly backend?: Backend;
  readonly causal?: boolean;
  /** Block sizes the masks are built with (default: a recipe's, 64 × 64); block-granular methods depend on them. */
  readonly blockQ?: number;
  readonly blockK?: number;
}

export interface MatchedBudget {
  readonly param: string;
  readonly value: number;
  /** The density the value gives on the item (the closest reachable to the target). */
  readonly density: number;
}

/**
 * Finds the budget value whose mask has the density closest to `target` on `item`, by bisection (density must be
 * monotone in the parameter, the way the plugin declares; for an undeclared parameter the two ends of its range
 * tell). Patterns cost a mask build per step; estimators also run their estimate.
 */
export async function matchDensity(options: MatchDensityOptions): Promise<MatchedBudget> {
  const target = expectNumber(options.target, 'target density', 1e-9, 1);
  const budget = budgetParam(options.registry, options.method, options.param);
  const input = { q: options.item.q, k: options.item.k, v: options.item.v, qOffset: options.item.qOffset };
  const shape = resolveAttentionShape(input, { checkFinite: false });
  const causal = options.causal ?? true;
  const backend = options.backend ?? createReferenceBackend();
  const densityAt = async (value: number): Promise<number> => {
    const method = { method: options.method, params: { ...options.params, [budget.name]: value } };
    const recipe = compileRecipe({ blockQ: options.blockQ, blockK: options.blockK, default: method }, options.registry);
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
  const increasing = budget.denser === undefined ? b.density >= a.density : budget.denser === 'higher';
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
