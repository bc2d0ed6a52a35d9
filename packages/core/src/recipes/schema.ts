import { z } from 'zod';
import { describeValue, SparselandError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { joinPath, zodFailure } from '../plugins/zod-errors.js';

/** One method (a pattern or an estimator by registry name) with its parameters. `dense` is built in. */
export interface MethodRecipe {
  readonly method: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

/** A mask: one method, or the union / intersection of several. */
export type MaskRecipe = MethodRecipe | { readonly union: readonly MaskRecipe[] } | { readonly intersect: readonly MaskRecipe[] };

/** A layer's mask for every head, optionally with per-head overrides (keys are head indices). */
export interface LayerRecipe {
  readonly default?: MaskRecipe;
  readonly heads?: Readonly<Record<string, MaskRecipe>>;
  /** The layer's KV-cache policy (a kv-policy plugin by registry name), overriding the document's `kv`. */
  readonly kv?: MethodRecipe;
  /** Per-kv-head KV policies (keys are kv head indices), e.g. DuoAttention's streaming heads. */
  readonly kvHeads?: Readonly<Record<string, MethodRecipe>>;
}

/**
 * A recipe document: what MoA's and MInference's offline searches write. `default` applies to every layer and
 * head unless `layers` overrides it (keys are layer indices). A bare MaskRecipe is shorthand for `{default}`.
 */
export interface RecipeDocument {
  readonly version?: 1;
  readonly description?: string;
  readonly default: MaskRecipe;
  readonly layers?: Readonly<Record<string, LayerRecipe>>;
  /** The KV-cache policy of every layer and kv head unless a layer overrides it (default: the full cache). */
  readonly kv?: MethodRecipe;
  /** Block sizes masks are built with (default 64×64). */
  readonly blockQ?: number;
  readonly blockK?: number;
}

export type Recipe = MaskRecipe | RecipeDocument;

/** The built-in method that keeps every pair (no mask, a dense call). */
export const DENSE_METHOD = 'dense';

const methodSchema = z
  .object({
    method: z.string().min(1, 'method must be a non-empty plugin name'),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
const unionSchema = z.object({ union: z.array(z.unknown()).min(1, 'union needs at least one mask') }).strict();
const intersectSchema = z.object({ intersect: z.array(z.unknown()).min(1, 'intersect needs at least one mask') }).strict();
const INDEX_KEY = /^(0|[1-9][0-9]*)$/;

/**
 * Layer and head keys are decimal indices below `max` (LIMITS.layers / LIMITS.heads): checked by hand because zod's
 * record-key message names no key, and because keys past 2^53 would collide once read as numbers.
 */
function expectIndexKeys(record: Record<string, unknown> | undefined, path: readonly PropertyKey[], max: number): void {
  for (const key of Object.keys(record ?? {})) {
    if (!INDEX_KEY.test(key) || Number(key) >= max) {
      throw new SparselandError(
        'E_RECIPE',
        `invalid recipe: ${joinPath([...path, key])}: keys must be integer indices in [0, ${max}) like "0" or "12", got ${JSON.stringify(key.length > 40 ? `${key.slice(0, 37)}...` : key)}`,
        { path: joinPath([...path, key]) },
      );
    }
  }
}
const layerSchema = z
  .object({
    default: z.unknown().optional(),
    heads: z.record(z.string(), z.unknown()).optional(),
    kv: methodSchema.optional(),
    kvHeads: z.record(z.string(), methodSchema).optional(),
  })
  .strict();
const documentSchema = z
  .object({
    version: z.literal(1).optional(),
    description: z.string().optional(),
    default: z.unknown(),
    layers: z.record(z.string(), z.unknown()).optional(),
    kv: methodSchema.optional(),
    blockQ: z.number().int().min(1).optional(),
    blockK: z.number().int().min(1).optional(),
  })
  .strict();

function parseWith<T>(schema: z.ZodType<T>, value: unknown, path: readonly PropertyKey[]): T {
  const result = schema.safeParse(value);
  if (!result.success) throw zodFailure('E_RECIPE', 'invalid recipe', result.error, value, path);
  return result.data;
}

/** Masks parsed so far in one document, against LIMITS.recipeNodes. */
interface ParseBudget {
  nodes: number;
}

function parseMask(value: unknown, path: readonly PropertyKey[], budget: ParseBudget, depth = 0): MaskRecipe {
  if (depth > LIMITS.recipeDepth) {
    throw new SparselandError(
      'E_RECIPE',
      `invalid recipe: ${joinPath(path)}: union / intersect may nest at most ${LIMITS.recipeDepth} deep`,
      { path: joinPath(path), limit: LIMITS.recipeDepth },
    );
  }
  if (++budget.nodes > LIMITS.recipeNodes) {
    throw new SparselandError(
      'E_RECIPE',
      `invalid recipe: ${joinPath(path) || '(root)'}: a recipe may hold at most ${LIMITS.recipeNodes} masks (methods, unions and intersections over all layers and heads)`,
      { path: joinPath(path), limit: LIMITS.recipeNodes },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SparselandError(
      'E_RECIPE',
      `invalid recipe: ${joinPath(path) || '(root)'}: expected a mask {method, params?} | {union: [...]} | {intersect: [...]}, got ${describeValue(value)}`,
      { path: joinPath(path) },
    );
  }
  if ('union' in value) {
    const u = parseWith(unionSchema, value, path);
    return { union: u.union.map((m, i) => parseMask(m, [...path, 'union', i], budget, depth + 1)) };
  }
  if ('intersect' in value) {
    const x = parseWith(intersectSchema, value, path);
    return { intersect: x.intersect.map((m, i) => parseMask(m, [...path, 'intersect', i], budget, depth + 1)) };
  }
  if ('method' in value) return parseWith(methodSchema, value, path);
  throw new SparselandError(
    'E_RECIPE',
    `invalid recipe: ${joinPath(path) || '(root)'}: expected one of the keys "method", "union" or "intersect", got keys [${Object.keys(value).join(', ')}]`,
    { path: joinPath(path) },
  );
}

/**
 * Validates a recipe's structure (JSON text or a parsed value) and returns it normalised to a RecipeDocument.
 * Errors are E_RECIPE and name the JSON path, e.g. `layers.3.heads.5.method`. Method names and parameters are
 * checked against a registry by `compileRecipe`.
 */
export function parseRecipe(input: unknown): RecipeDocument {
  const value = typeof input === 'string' ? parseRecipeJson(input) : input;
  expectNoProtoKeys(value);
  const budget: ParseBudget = { nodes: 0 };
  if (isRecipeDocument(value)) {
    const doc = parseWith(documentSchema, value, []);
    expectIndexKeys(doc.layers, ['layers'], LIMITS.layers);
    const layers: Record<string, LayerRecipe> = {};
    for (const [key, layerValue] of Object.entries(doc.layers ?? {})) {
      const path = ['layers', key];
      const isLayerObject =
        typeof layerValue === 'object' &&
        layerValue !== null &&
        !Array.isArray(layerValue) &&
        ('heads' in layerValue || 'default' in layerValue || 'kv' in layerValue || 'kvHeads' in layerValue);
      if (!isLayerObject) {
        layers[key] = { default: parseMask(layerValue, path, budget) };
        continue;
      }
      const layer = parseWith(layerSchema, layerValue, path);
      expectIndexKeys(layer.heads, [...path, 'heads'], LIMITS.heads);
      const heads: Record<string, MaskRecipe> = {};
      for (const [h, m] of Object.entries(layer.heads ?? {})) heads[h] = parseMask(m, [...path, 'heads', h], budget);
      expectIndexKeys(layer.kvHeads, [...path, 'kvHeads'], LIMITS.heads);
      layers[key] = {
        ...(layer.default === undefined ? {} : { default: parseMask(layer.default, [...path, 'default'], budget) }),
        heads,
        ...(layer.kv === undefined ? {} : { kv: layer.kv }),
        ...(layer.kvHeads === undefined ? {} : { kvHeads: layer.kvHeads }),
      };
    }
    return {
      ...(doc.version === undefined ? {} : { version: doc.version }),
      ...(doc.description === undefined ? {} : { description: doc.description }),
      default: parseMask(doc.default, ['default'], budget),
      layers,
      ...(doc.kv === undefined ? {} : { kv: doc.kv }),
      ...(doc.blockQ === undefined ? {} : { blockQ: doc.blockQ }),
      ...(doc.blockK === undefined ? {} : { blockK: doc.blockK }),
    };
  }
  return { default: parseMask(value, [], budget) };
}

/**
 * A key named `__proto__` anywhere in a recipe is refused: JSON.parse makes it an own key, but copying it into an
 * object would set that object's prototype instead (zod drops it silently), so the document would not mean what it
 * says. Walks iteratively with a depth bound, so hostile nesting cannot overflow the stack.
 */
function expectNoProtoKeys(value: unknown): void {
  const stack: { value: unknown; path: PropertyKey[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: node, path } = stack.pop() as { value: unknown; path: PropertyKey[] };
    if (typeof node !== 'object' || node === null) continue;
    if (path.length > 4 * LIMITS.recipeDepth + 16) {
      throw new SparselandError('E_RECIPE', `invalid recipe: ${joinPath(path.slice(0, 12))}...: nested too deeply`, {
        limit: LIMITS.recipeDepth,
      });
    }
    if (Object.hasOwn(node, '__proto__')) {
      throw new SparselandError('E_RECIPE', `invalid recipe: ${joinPath([...path, '__proto__'])}: "__proto__" is not allowed as a key`, {
        path: joinPath([...path, '__proto__']),
      });
    }
    for (const [key, child] of Object.entries(node)) stack.push({ value: child, path: [...path, Array.isArray(node) ? Number(key) : key] });
  }
}

/** JSON.parse with an E_RECIPE error that says where the syntax broke. */
export function parseRecipeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SparselandError('E_RECIPE', `recipe is not valid JSON: ${(error as Error).message}`);
  }
}

/** A recipe document (with `default`) rather than a bare mask. */
export function isRecipeDocument(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'default' in value;
}
