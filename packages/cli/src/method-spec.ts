import { DENSE_METHOD, isSparselandError, type MethodRecipe, type Recipe, type Registry } from '@sparseland/core';
import { budgetParam, findMethod, formatValue, type MethodSpec, matchDensity, type WorkloadItem } from '@sparseland/eval';
import { CLI_LIMITS, quote } from './cli-values.js';
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

/** Block sizes of every method's recipe (`--blocks QxK`); undefined: the recipe default (64 × 64). */
export interface BlockSizes {
  readonly blockQ: number;
  readonly blockK: number;
}

/** `--blocks 16x16` → { blockQ: 16, blockK: 16 }. */
export function parseBlocks(text: string): BlockSizes {
  const m = /^(\d{1,9})x(\d{1,9})$/.exec(text.trim());
  const blockQ = Number(m?.[1]);
  const blockK = Number(m?.[2]);
  if (!m || !(blockQ >= 1 && blockK >= 1 && blockQ <= CLI_LIMITS.block && blockK <= CLI_LIMITS.block)) {
    throw new UsageError(`--blocks must look like 64x64 (query × key block, each 1 to ${CLI_LIMITS.block}), got ${quote(text)}`);
  }
  return { blockQ, blockK };
}

/** A method's recipe, with the block sizes when given. */
export function methodRecipe(method: MethodRecipe, blocks: BlockSizes | undefined): Recipe {
  return blocks ? { ...blocks, default: method } : method;
}

/**
 * One MethodSpec per method. With a target density, each method's budget parameter (the one its plugin declares) is
 * set by bisection on `item` so its mask keeps that fraction of the causal pairs; a method that declares none runs
 * with its own parameters, and `note` says so.
 */
export async function resolveMethods(
  names: readonly string[],
  params: Record<string, Record<string, unknown>>,
  registry: Registry,
  density: number | undefined,
  item: WorkloadItem,
  options: { readonly blocks?: BlockSizes | undefined; readonly note?: (text: string) => void } = {},
): Promise<MethodSpec[]> {
  const { blocks } = options;
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
      } catch (error) {
        if (!isSparselandError(error, 'E_BUDGET')) throw error;
        options.note?.(`${name} has no budget parameter to match --density with: it runs with its own parameters`);
      }
    }
    if (budget === undefined || density === undefined) {
      out.push({ label: name, recipe: methodRecipe({ method: name, params: own }, blocks) });
      continue;
    }
    const matched = await matchDensity({ registry, method: name, params: own, target: density, item, ...blocks });
    out.push({
      label: `${name} ${matched.param}=${formatValue(matched.value)}`,
      group: name,
      recipe: methodRecipe({ method: name, params: { ...own, [matched.param]: matched.value } }, blocks),
    });
  }
  return out;
}
