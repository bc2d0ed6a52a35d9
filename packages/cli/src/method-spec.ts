import { DENSE_METHOD, type Registry } from '@sparseland/core';
import { budgetParam, findMethod, type MethodSpec, matchDensity, type WorkloadItem } from '@sparseland/eval';
import { UsageError } from './exit-codes.js';

/** `--params` JSON: `{"method": {...params}}` for several methods, or a bare params object when there is one. */
export function parseParamsOption(text: string | undefined, methods: readonly string[]): Record<string, Record<string, unknown>> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `--params must be JSON, e.g. '{"window": 256}' or '{"sliding-window": {"window": 256}}': ${(error as Error).message}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('--params must be a JSON object');
  const entries = Object.entries(value as Record<string, unknown>);
  const keyedByMethod = entries.length > 0 && entries.every(([k, v]) => methods.includes(k) && typeof v === 'object' && v !== null);
  if (keyedByMethod) return value as Record<string, Record<string, unknown>>;
  if (methods.length === 1) return { [methods[0] as string]: value as Record<string, unknown> };
  throw new UsageError(`--params names no method of --methods (${methods.join(', ')}); key it by method, e.g. '{"${methods[0]}": {...}}'`);
}

/** Method names from `--methods a,b`, each checked against the registry (closest-name suggestions on typos). */
export function parseMethodNames(text: string, registry: Registry): string[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError('--methods needs at least one method name');
  for (const name of names) if (name !== DENSE_METHOD) findMethod(registry, name);
  return names;
}

/**
 * One MethodSpec per method. With a target density, each method's budget parameter is set (by bisection on `item`)
 * so its mask keeps that fraction of the causal pairs; methods without a budget parameter run as given.
 */
export async function resolveMethods(
  names: readonly string[],
  params: Record<string, Record<string, unknown>>,
  registry: Registry,
  density: number | undefined,
  item: WorkloadItem,
): Promise<MethodSpec[]> {
  const out: MethodSpec[] = [];
  for (const name of names) {
    if (name === DENSE_METHOD) {
      out.push({ label: DENSE_METHOD, recipe: { method: DENSE_METHOD } });
      continue;
    }
    const own = params[name] ?? {};
    findMethod(registry, name).parseParams(own);
    let budget: string | undefined;
    if (density !== undefined) {
      try {
        budget = budgetParam(registry, name).name;
      } catch {
        budget = undefined;
      }
    }
    if (budget === undefined || density === undefined) {
      out.push({ label: name, recipe: { method: name, params: own } });
      continue;
    }
    const matched = await matchDensity({ registry, method: name, param: budget, params: own, target: density, item });
    out.push({
      label: `${name} ${matched.param}=${matched.value}`,
      group: name,
      recipe: { method: name, params: { ...own, [matched.param]: matched.value } },
    });
  }
  return out;
}
