import type { Backend } from '../backend.js';
import type { CostMeter } from '../cost.js';
import { SparselandError } from '../errors.js';
import { type KvHeadGroup, routeKvPolicies } from '../kv/kv-head-view.js';
import type { KvPolicy } from '../kv-policy.js';
import { createBlockMask, resolveBlockSizes } from '../masks/build-block-mask.js';
import { composeScoreMods, type ScoreMod } from '../masks/mask-mod.js';
import { mergeHeadMasks } from '../masks/merge-heads.js';
import { intersectMasks, type SparseMask, toSparseMask, unionMasks } from '../masks/sparse-mask.js';
import type { Registry } from '../plugins/registry.js';
import type { EstimateResult, Estimator, EstimatorInput, OutputCorrection, PatternInstance } from '../plugins/types.js';
import { joinPath } from '../plugins/zod-errors.js';
import {
  DENSE_METHOD,
  isRecipeDocument,
  type MaskRecipe,
  type MethodRecipe,
  parseRecipe,
  parseRecipeJson,
  type Recipe,
  type RecipeDocument,
} from './schema.js';

/** A recipe node with its plugin resolved and its parameters parsed (defaults filled). */
export type CompiledMask =
  | { readonly kind: 'dense' }
  | { readonly kind: 'pattern'; readonly name: string; readonly params: unknown; readonly instance: PatternInstance }
  | { readonly kind: 'estimator'; readonly name: string; readonly params: unknown; readonly run: Estimator }
  | { readonly kind: 'union' | 'intersect'; readonly children: readonly CompiledMask[] };

/** What evaluating a compiled recipe for one layer needs. */
export interface MaskContext {
  readonly input: EstimatorInput;
  readonly backend: Backend;
  readonly cost: CostMeter;
  readonly seed: number;
  readonly layer: number;
}

/**
 * A built mask for one call: `dense` or a SparseMask, plus any static score mod the patterns contribute and any
 * output correction the estimators ask for.
 */
export interface BuiltMask {
  readonly mask: SparseMask | 'dense';
  readonly scoreMod?: ScoreMod | undefined;
  readonly correction?: OutputCorrection | undefined;
}

/** A recipe resolved against a registry once, then evaluated per call (the model runtime compiles once). */
export interface CompiledRecipe {
  readonly kind: 'compiled-recipe';
  readonly document: RecipeDocument;
  readonly blockQ: number;
  readonly blockK: number;
  /** Builds the mask of `ctx.layer` for every query head of the call. */
  build(ctx: MaskContext): Promise<BuiltMask>;
  /**
   * The recipe's KV-cache policies (its `kv` and the layers' `kv` / `kvHeads`) as one policy that routes each layer's
   * kv heads to theirs; undefined when the recipe names none.
   */
  readonly kvPolicy: KvPolicy | undefined;
}

/**
 * Validates a recipe against a registry: every method must be a registered pattern or estimator (or `dense`) and
 * every params object must pass that plugin's schema. Errors name the JSON path (`layers.3.heads.5.params.vertical`).
 */
export function compileRecipe(recipe: Recipe | string, registry: Registry): CompiledRecipe {
  const value = typeof recipe === 'string' ? parseRecipeJson(recipe) : recipe;
  const document = parseRecipe(value);
  // Paths in errors follow what the user wrote: a bare mask has no `default.` prefix.
  const defaultPath = isRecipeDocument(value) ? ['default'] : [];
  const { blockQ, blockK } = resolveBlockSizes({ blockQ: document.blockQ, blockK: document.blockK });
  const compileMask = (node: MaskRecipe, path: readonly PropertyKey[]): CompiledMask => {
    if ('union' in node) return { kind: 'union', children: node.union.map((c, i) => compileMask(c, [...path, 'union', i])) };
    if ('intersect' in node)
      return { kind: 'intersect', children: node.intersect.map((c, i) => compileMask(c, [...path, 'intersect', i])) };
    const { method, params } = node;
    if (method === DENSE_METHOD) {
      if (params && Object.keys(params).length > 0) {
        throw new SparselandError('E_RECIPE', `invalid recipe: ${joinPath([...path, 'params'])}: the dense method takes no params`);
      }
      return { kind: 'dense' };
    }
    if (registry.has('pattern', method)) {
      const plugin = registry.get('pattern', method);
      const parsed = plugin.parseParams(params ?? {}, [...path, 'params']);
      return { kind: 'pattern', name: method, params: parsed, instance: plugin.build(parsed) };
    }
    if (registry.has('estimator', method)) {
      const plugin = registry.get('estimator', method);
      const parsed = plugin.parseParams(params ?? {}, [...path, 'params']);
      return { kind: 'estimator', name: method, params: parsed, run: plugin.build(parsed) };
    }
    const names = [DENSE_METHOD, ...registry.list('pattern').map((p) => p.name), ...registry.list('estimator').map((p) => p.name)];
    try {
      registry.get('pattern', method);
    } catch (error) {
      const suggestion = (error as SparselandError).details['suggestion'] as string | undefined;
      throw new SparselandError(
        'E_UNKNOWN_PLUGIN',
        `invalid recipe: ${joinPath([...path, 'method'])}: unknown method "${method}".${suggestion ? ` Did you mean "${suggestion}"?` : ''} Allowed: ${names.join(', ')}`,
        { path: joinPath([...path, 'method']), method, allowed: names },
      );
    }
    throw new SparselandError('E_UNKNOWN_PLUGIN', `unknown method "${method}"`);
  };
  const defaultMask = compileMask(document.default, defaultPath);
  const layers = new Map<number, { default: CompiledMask | undefined; heads: Map<number, CompiledMask> }>();
  for (const [key, layer] of Object.entries(document.layers ?? {})) {
    const heads = new Map<number, CompiledMask>();
    for (const [h, m] of Object.entries(layer.heads ?? {})) heads.set(Number(h), compileMask(m, ['layers', key, 'heads', h]));
    layers.set(Number(key), { default: layer.default ? compileMask(layer.default, ['layers', key, 'default']) : undefined, heads });
  }

  const kvPolicy = compileKvPolicies(document, registry);

  return Object.freeze({
    kind: 'compiled-recipe' as const,
    document,
    blockQ,
    blockK,
    kvPolicy,
    async build(ctx: MaskContext): Promise<BuiltMask> {
      const shape = ctx.input.shape;
      const layer = layers.get(ctx.layer);
      const base = layer?.default ?? defaultMask;
      // Group heads by the node they use so each distinct node is evaluated once for all heads.
      const groups = new Map<CompiledMask, number[]>();
      for (let h = 0; h < shape.heads; h++) {
        const node = layer?.heads.get(h) ?? base;
        const list = groups.get(node);
        if (list) list.push(h);
        else groups.set(node, [h]);
      }
      for (const h of layer?.heads.keys() ?? []) {
        if (h >= shape.heads) {
          throw new SparselandError(
            'E_RECIPE',
            `invalid recipe: layers.${ctx.layer}.heads.${h}: the call has only ${shape.heads} query heads`,
          );
        }
      }
      const built = new Map<CompiledMask, BuiltMask>();
      for (const node of groups.keys()) built.set(node, await evaluate(node, ctx, { blockQ, blockK }));
      if (groups.size === 1) return built.values().next().value as BuiltMask;
      const mask = mergeHeadMasks(
        { ...shape },
        [...groups.entries()].map(([node, heads]) => ({ mask: (built.get(node) as BuiltMask).mask, heads })),
        { blockQ, blockK },
      );
      const headScore = new Array<ScoreMod | undefined>(shape.heads);
      for (const [node, heads] of groups) for (const h of heads) headScore[h] = built.get(node)?.scoreMod;
      const anyScore = headScore.some((s) => s !== undefined);
      const scoreMod: ScoreMod | undefined = anyScore
        ? (s, h, q, k) => {
            const f = headScore[h];
            return f ? f(s, h, q, k) : s;
          }
        : undefined;
      return { mask, scoreMod, correction: perHeadCorrection(groups, built, shape) };
    },
  });
}

/**
 * Resolves the recipe's KV policies against the registry's kv-policy plugins (params parsed with each plugin's
 * schema, errors naming the JSON path) and builds one routing policy; undefined when the recipe names none.
 */
function compileKvPolicies(document: RecipeDocument, registry: Registry): KvPolicy | undefined {
  const layers = Object.entries(document.layers ?? {});
  if (document.kv === undefined && layers.every(([, l]) => l.kv === undefined && l.kvHeads === undefined)) return undefined;
  const build = (node: MethodRecipe, path: readonly PropertyKey[]): KvPolicy => {
    if (!registry.has('kv-policy', node.method)) {
      const names = registry.list('kv-policy').map((p) => p.name);
      let suggestion: string | undefined;
      try {
        registry.get('kv-policy', node.method);
      } catch (error) {
        suggestion = (error as SparselandError).details['suggestion'] as string | undefined;
      }
      throw new SparselandError(
        'E_UNKNOWN_PLUGIN',
        `invalid recipe: ${joinPath([...path, 'method'])}: unknown KV policy "${node.method}".${suggestion ? ` Did you mean "${suggestion}"?` : ''} Allowed: ${names.join(', ') || '(no kv-policy plugin registered)'}`,
        { path: joinPath([...path, 'method']), method: node.method, allowed: names },
      );
    }
    const plugin = registry.get('kv-policy', node.method);
    return plugin.build(plugin.parseParams(node.params ?? {}, [...path, 'params']));
  };
  const base = document.kv ? build(document.kv, ['kv']) : undefined;
  const perLayer = new Map<number, { kv: KvPolicy | undefined; heads: Map<number, KvPolicy> }>();
  for (const [key, layer] of layers) {
    if (layer.kv === undefined && layer.kvHeads === undefined) continue;
    const heads = new Map<number, KvPolicy>();
    for (const [g, node] of Object.entries(layer.kvHeads ?? {})) heads.set(Number(g), build(node, ['layers', key, 'kvHeads', g]));
    perLayer.set(Number(key), { kv: layer.kv ? build(layer.kv, ['layers', key, 'kv']) : base, heads });
  }
  const groups = new Map<string, readonly KvHeadGroup[]>();
  return routeKvPolicies('recipe', (layer, kvHeads) => {
    const cacheKey = `${layer}:${kvHeads}`;
    const known = groups.get(cacheKey);
    if (known) return known;
    const entry = perLayer.get(layer);
    for (const g of entry?.heads.keys() ?? []) {
      if (g >= kvHeads) {
        throw new SparselandError('E_RECIPE', `invalid recipe: layers.${layer}.kvHeads.${g}: the model has only ${kvHeads} kv heads`);
      }
    }
    const byPolicy = new Map<KvPolicy | undefined, number[]>();
    for (let g = 0; g < kvHeads; g++) {
      const policy = entry?.heads.get(g) ?? (entry ? entry.kv : base);
      const list = byPolicy.get(policy);
      if (list) list.push(g);
      else byPolicy.set(policy, [g]);
    }
    const result = [...byPolicy.entries()].map(([policy, heads]) => ({ policy, heads }));
    groups.set(cacheKey, result);
    return result;
  });
}

/** Whether a value is a recipe compiled by `compileRecipe` (reusable without a registry). */
export function isCompiledRecipe(value: unknown): value is CompiledRecipe {
  return typeof value === 'object' && value !== null && (value as CompiledRecipe).kind === 'compiled-recipe';
}

/** Whether an estimator returned `{mask, correction?}` rather than a bare SparseMask. */
export function isEstimateResult(value: SparseMask | EstimateResult): value is EstimateResult {
  return typeof value === 'object' && value !== null && 'mask' in value;
}

/** Applies several corrections one after the other (a union of two corrected estimators). */
function composeCorrections(list: readonly (OutputCorrection | undefined)[]): OutputCorrection | undefined {
  const present = list.filter((c): c is OutputCorrection => c !== undefined);
  if (present.length <= 1) return present[0];
  return async (result, call, ctx) => {
    let out = result;
    for (const c of present) out = await c(out, call, ctx);
    return out;
  };
}

/** Each group's correction runs on the whole result; only the rows of that group's heads are kept from it. */
function perHeadCorrection(
  groups: ReadonlyMap<CompiledMask, number[]>,
  built: ReadonlyMap<CompiledMask, BuiltMask>,
  shape: { readonly qLength: number; readonly dim: number },
): OutputCorrection | undefined {
  const corrected: [OutputCorrection, readonly number[]][] = [];
  for (const [node, heads] of groups) {
    const c = built.get(node)?.correction;
    if (c) corrected.push([c, heads]);
  }
  if (corrected.length === 0) return undefined;
  return async (result, call, ctx) => {
    const output = new Float32Array(result.output.data);
    const lse = new Float32Array(result.lse);
    const rowValues = shape.qLength * shape.dim;
    for (const [correct, heads] of corrected) {
      const one = await correct(result, call, ctx);
      for (const h of heads) {
        output.set(one.output.data.subarray(h * rowValues, (h + 1) * rowValues), h * rowValues);
        lse.set(one.lse.subarray(h * shape.qLength, (h + 1) * shape.qLength), h * shape.qLength);
      }
    }
    return { output: { ...result.output, data: output }, lse };
  };
}

async function evaluate(node: CompiledMask, ctx: MaskContext, sizes: { blockQ: number; blockK: number }): Promise<BuiltMask> {
  const shape = { ...ctx.input.shape, layer: ctx.layer };
  switch (node.kind) {
    case 'dense':
      return { mask: 'dense' };
    case 'pattern': {
      const inst = node.instance;
      const scoreMod = inst.scoreMod?.(shape);
      if (inst.mask) return { mask: toSparseMask(inst.mask(shape, sizes), shape), scoreMod };
      if (inst.maskMod) return { mask: { blocks: createBlockMask(inst.maskMod(shape), shape, sizes) }, scoreMod };
      return { mask: 'dense', scoreMod };
    }
    case 'estimator': {
      const estimate = await node.run(ctx.input, { backend: ctx.backend, cost: ctx.cost, seed: ctx.seed, layer: ctx.layer, ...sizes });
      if (isEstimateResult(estimate)) return { mask: toSparseMask(estimate.mask, shape), correction: estimate.correction };
      return { mask: toSparseMask(estimate, shape) };
    }
    case 'union':
    case 'intersect': {
      const parts: BuiltMask[] = [];
      for (const child of node.children) parts.push(await evaluate(child, ctx, sizes));
      const mods = parts.map((p) => p.scoreMod).filter((m): m is ScoreMod => m !== undefined);
      const scoreMod = mods.length ? composeScoreMods(...mods) : undefined;
      const correction = composeCorrections(parts.map((p) => p.correction));
      const masks = parts.map((p) => p.mask);
      if (node.kind === 'union') {
        if (masks.includes('dense')) return { mask: 'dense', scoreMod };
        return { mask: reduceBalanced(masks as SparseMask[], (a, b) => unionMasks(a, b)), scoreMod, correction };
      }
      const sparse = masks.filter((m): m is SparseMask => m !== 'dense');
      if (sparse.length === 0) return { mask: 'dense', scoreMod };
      return { mask: reduceBalanced(sparse, (a, b) => intersectMasks(a, b, sizes)), scoreMod, correction };
    }
  }
}

/**
 * Combines n masks as a balanced tree rather than a left fold: a combined mask tests membership through its
 * operands, so a fold of thousands of siblings would nest that many calls per pair (a stack overflow); the tree
 * nests log2(n).
 */
function reduceBalanced<T>(items: readonly T[], combine: (a: T, b: T) => T): T {
  let level = items.slice();
  while (level.length > 1) {
    const next: T[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(combine(level[i] as T, level[i + 1] as T));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as T);
    level = next;
  }
  return level[0] as T;
}
