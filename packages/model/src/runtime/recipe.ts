import {
  type CompiledRecipe,
  compileRecipe,
  createRegistry,
  DENSE_METHOD,
  isCompiledRecipe,
  isSparselandError,
  type MaskRecipe,
  type Recipe,
  type Registry,
  SparselandError,
} from '@sparseland/core';

/** A session's recipe, compiled once, and whether it keeps every pair everywhere. */
export interface SessionRecipe {
  readonly compiled: CompiledRecipe;
  readonly dense: boolean;
}

const DENSE: Recipe = { method: DENSE_METHOD };

/**
 * Compiles (once per session) the recipe a session was given; no recipe means dense attention. A layer override past
 * the model's `layers` is E_RECIPE, as a head override past the call's heads is: it would otherwise be ignored.
 */
export function resolveSessionRecipe(
  recipe: Recipe | string | CompiledRecipe | undefined,
  registry: Registry | undefined,
  layers: number,
): SessionRecipe {
  const resolved = compileSessionRecipe(recipe, registry);
  for (const key of Object.keys(resolved.compiled.document.layers ?? {})) {
    if (Number(key) >= layers) {
      throw new SparselandError('E_RECIPE', `invalid recipe: layers.${key}: the model has only ${layers} layers (0 to ${layers - 1})`, {
        path: `layers.${key}`,
        layers,
      });
    }
  }
  return resolved;
}

function compileSessionRecipe(recipe: Recipe | string | CompiledRecipe | undefined, registry: Registry | undefined): SessionRecipe {
  if (isCompiledRecipe(recipe)) return { compiled: recipe, dense: isDenseDocument(recipe) };
  try {
    const compiled = compileRecipe(recipe ?? DENSE, registry ?? createRegistry({ plugins: [] }));
    return { compiled, dense: isDenseDocument(compiled) };
  } catch (error) {
    if (registry === undefined && isSparselandError(error, 'E_UNKNOWN_PLUGIN')) {
      throw new SparselandError(
        'E_UNKNOWN_PLUGIN',
        `${error.reason}. The session has no registry: pass \`registry: createRegistry({ plugins })\` with the plugins the recipe names`,
        error.details as Record<string, unknown>,
      );
    }
    throw error;
  }
}

/** True when every layer and head of the recipe resolves to `dense` (no mask, no score mod). */
function isDenseDocument(compiled: CompiledRecipe): boolean {
  const doc = compiled.document;
  if (!isDenseMask(doc.default)) return false;
  for (const layer of Object.values(doc.layers ?? {})) {
    if (layer.default && !isDenseMask(layer.default)) return false;
    for (const head of Object.values(layer.heads ?? {})) if (!isDenseMask(head)) return false;
  }
  return true;
}

function isDenseMask(node: MaskRecipe): boolean {
  if ('method' in node) return node.method === DENSE_METHOD;
  // A union with a dense member would still carry the other members' score mods: only all-dense counts.
  if ('union' in node) return node.union.every(isDenseMask);
  return node.intersect.every(isDenseMask);
}
