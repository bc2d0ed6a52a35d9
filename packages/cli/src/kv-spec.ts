import { readFileSync } from 'node:fs';
import { paramsJsonSchema, type Recipe, type Registry } from '@sparseland/core';
import { closestName } from '@sparseland/core/kit';
import type { MethodSpec } from '@sparseland/eval';
import { UsageError } from './exit-codes.js';

/** What `--kv`, `--kv-budget`, `--kv-params` and `--recipe` ask for. */
export interface KvRequest {
  readonly kv?: string | undefined;
  readonly kvBudget?: string | undefined;
  readonly kvParams?: string | undefined;
  readonly recipe?: string | undefined;
}

/** The KV-policy names of `--kv a,b` (closest-name suggestions on typos). */
export function parseKvNames(text: string, registry: Registry): string[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError('--kv needs at least one KV policy name (see `sparseland list --kind kv-policy`)');
  const known = registry.list('kv-policy').map((p) => p.name);
  if (known.length === 0) throw new UsageError('--kv: no KV policy is installed (add @sparseland/kv-cache)');
  for (const name of names) {
    if (!known.includes(name)) {
      const suggestion = closestName(name, known);
      throw new UsageError(
        `--kv: unknown KV policy "${name}".${suggestion ? ` Did you mean "${suggestion}"?` : ''} Installed: ${known.join(', ')}`,
      );
    }
  }
  return names;
}

/** `--kv-budget 0.1,0.25,512`: fractions of the prompt in (0, 1) or whole token counts. */
export function parseKvBudgets(text: string | undefined): (number | undefined)[] {
  if (text === undefined) return [undefined];
  return text.split(',').map((s) => {
    const b = Number(s.trim());
    if (!(b > 0) || (b >= 1 && !Number.isInteger(b))) {
      throw new UsageError(`--kv-budget: expected fractions of the prompt in (0, 1) or whole token counts, got "${s}"`);
    }
    return b;
  });
}

function parseJson(text: string | undefined, what: string): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} must be JSON, e.g. '{"sink": 4}': ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** Whether a KV policy takes a `budget` parameter (policies that quantise or keep everything do not). */
export function hasBudget(registry: Registry, name: string): boolean {
  const schema = paramsJsonSchema(registry.get('kv-policy', name).params) as { properties?: Record<string, unknown> };
  return schema.properties?.['budget'] !== undefined;
}

/**
 * One recipe per (policy, budget): dense attention with the policy as the cache's `kv`. Budgets apply to policies
 * with a budget parameter; `--kv-params` is either one params object or keyed by policy name. `--recipe` adds a
 * recipe file as one more method (per-layer / per-head KV policies, e.g. DuoAttention's heads).
 */
export function kvMethods(request: KvRequest, registry: Registry): MethodSpec[] {
  const methods: MethodSpec[] = [];
  if (request.kv !== undefined) {
    const names = parseKvNames(request.kv, registry);
    const budgets = parseKvBudgets(request.kvBudget);
    const params = parseJson(request.kvParams, '--kv-params');
    const keyed = Object.keys(params).length > 0 && Object.keys(params).every((k) => names.includes(k));
    for (const name of names) {
      const own = (keyed ? params[name] : params) as Record<string, unknown> | undefined;
      const budgeted = hasBudget(registry, name);
      for (const budget of budgeted ? budgets : [undefined]) {
        const p = { ...own, ...(budget === undefined ? {} : { budget }) };
        registry.get('kv-policy', name).parseParams(p);
        const label = budget === undefined ? name : `${name} ${budget < 1 ? `${+(budget * 100).toFixed(1)}%` : `${budget} tokens`}`;
        methods.push({ label, group: name, recipe: { default: { method: 'dense' }, kv: { method: name, params: p } } });
      }
    }
  }
  if (request.recipe !== undefined) {
    let text: string;
    try {
      text = readFileSync(request.recipe, 'utf8');
    } catch (error) {
      throw new UsageError(`--recipe ${request.recipe}: cannot read it: ${(error as Error).message}`);
    }
    methods.push({ label: `recipe ${request.recipe}`, recipe: text as unknown as Recipe });
  }
  return methods;
}
