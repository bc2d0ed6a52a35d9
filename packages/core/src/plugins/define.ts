import type { z } from 'zod';
import { describeValue, SparselandError } from '../errors.js';
import { paramsJsonSchema } from './registry.js';
import type { BackendPlugin, EstimatorPlugin, KvPolicyPlugin, PatternPlugin, PluginBase, PluginBudget, PluginKind } from './types.js';
import { zodFailure } from './zod-errors.js';

type Definition<P extends PluginBase<PluginKind, z.ZodType>> = Omit<P, 'kind' | 'parseParams'>;

const NAME = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)?$/;

function finish<K extends PluginKind, S extends z.ZodType, P extends PluginBase<K, S>>(kind: K, def: Omit<P, 'kind' | 'parseParams'>): P {
  if (typeof def !== 'object' || def === null)
    throw new SparselandError('E_PARAMS', `define ${kind}: expected a definition object, got ${describeValue(def)}`);
  if (typeof def.name !== 'string' || !NAME.test(def.name)) {
    throw new SparselandError(
      'E_PARAMS',
      `define ${kind}: name must be kebab-case like "sliding-window" (optionally "scope/name"), got ${describeValue(def.name)}`,
    );
  }
  if (typeof def.summary !== 'string' || def.summary.length === 0) {
    throw new SparselandError('E_PARAMS', `${kind} "${def.name}": summary must be a non-empty sentence`);
  }
  const schema = def.params as S | undefined;
  if (!schema || typeof (schema as { safeParse?: unknown }).safeParse !== 'function') {
    throw new SparselandError('E_PARAMS', `${kind} "${def.name}": params must be a zod schema (use z.object({}) when there are none)`);
  }
  const parseParams = (input: unknown, path: readonly PropertyKey[] = ['params']): z.output<S> => {
    const result = schema.safeParse(input ?? {});
    if (!result.success) throw zodFailure('E_PARAMS', `invalid params for ${kind} "${def.name}"`, result.error, input, path);
    return result.data as z.output<S>;
  };
  return Object.freeze({ ...def, kind, parseParams }) as unknown as P;
}

/**
 * A declared budget must name a numeric parameter of the schema (an integer or number, possibly one branch of a
 * union) and say which way is denser.
 */
function checkBudget(kind: PluginKind, name: string, budget: PluginBudget | undefined, schema: z.ZodType): void {
  if (budget === undefined || budget === 'none') return;
  const expected = `budget must be { param: <a numeric parameter>, denser: 'higher' | 'lower' } or 'none'`;
  if (typeof budget !== 'object' || budget === null || typeof budget.param !== 'string') {
    throw new SparselandError('E_PARAMS', `${kind} "${name}": ${expected}, got ${describeValue(budget)}`);
  }
  if (budget.denser !== 'higher' && budget.denser !== 'lower') {
    throw new SparselandError(
      'E_PARAMS',
      `${kind} "${name}": budget.denser must be 'higher' or 'lower', got ${describeValue(budget.denser)}`,
    );
  }
  const properties = (paramsJsonSchema(schema) as { properties?: Record<string, JsonProperty> }).properties ?? {};
  const numeric = Object.keys(properties).filter((key) => isNumeric(properties[key] as JsonProperty));
  if (!numeric.includes(budget.param)) {
    throw new SparselandError(
      'E_PARAMS',
      `${kind} "${name}": budget.param must be one of its numeric parameters (${numeric.join(', ') || 'none'}), got ${describeValue(budget.param)}`,
      { param: budget.param, numeric },
    );
  }
}

interface JsonProperty {
  readonly type?: string;
  readonly anyOf?: readonly JsonProperty[];
}

const isNumeric = (p: JsonProperty): boolean =>
  p.type === 'integer' || p.type === 'number' || (p.anyOf ?? []).some((branch) => branch.type === 'integer' || branch.type === 'number');

/** Defines a static mask pattern with typed parameters (and its budget knob, see `PluginBudget`). The result is a frozen plain object. */
export function definePattern<S extends z.ZodType>(def: Definition<PatternPlugin<S>>): PatternPlugin<S> {
  if (typeof def?.build !== 'function')
    throw new SparselandError('E_PARAMS', `pattern "${String(def?.name)}": build(params) must be a function`);
  const plugin = finish<'pattern', S, PatternPlugin<S>>('pattern', def);
  checkBudget('pattern', plugin.name, plugin.budget, plugin.params);
  return plugin;
}

/** Defines a dynamic estimator (Q, K → SparseMask) with typed parameters (and its budget knob, see `PluginBudget`). */
export function defineEstimator<S extends z.ZodType>(def: Definition<EstimatorPlugin<S>>): EstimatorPlugin<S> {
  if (typeof def?.build !== 'function')
    throw new SparselandError('E_PARAMS', `estimator "${String(def?.name)}": build(params) must be a function`);
  const plugin = finish<'estimator', S, EstimatorPlugin<S>>('estimator', def);
  checkBudget('estimator', plugin.name, plugin.budget, plugin.params);
  return plugin;
}

/** Defines a backend: a probe, a priority, and an async factory whose options are validated with `params`. */
export function defineBackend<S extends z.ZodType>(def: Definition<BackendPlugin<S>>): BackendPlugin<S> {
  if (typeof def?.create !== 'function' || typeof def?.isSupported !== 'function') {
    throw new SparselandError('E_PARAMS', `backend "${String(def?.name)}": create(options) and isSupported() must be functions`);
  }
  return finish<'backend', S, BackendPlugin<S>>('backend', def);
}

/** Defines a KV-cache policy with typed parameters. */
export function defineKvPolicy<S extends z.ZodType>(def: Definition<KvPolicyPlugin<S>>): KvPolicyPlugin<S> {
  if (typeof def?.build !== 'function')
    throw new SparselandError('E_PARAMS', `kv-policy "${String(def?.name)}": build(params) must be a function`);
  return finish<'kv-policy', S, KvPolicyPlugin<S>>('kv-policy', def);
}
