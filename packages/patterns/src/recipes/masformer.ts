import { DENSE_METHOD, type LayerRecipe, type MaskRecipe, parseRecipe, type RecipeDocument, SparselandError } from '@sparseland/core';
import { describeValue } from '@sparseland/core/kit';

export interface MasformerOptions {
  /** Number of layers of the model. */
  readonly layers: number;
  /** Layers that keep full attention (default: the bottom ⌈layers / 8⌉, our choice; the paper studies placements). */
  readonly fullLayers?: readonly number[] | undefined;
  /** The mask every other layer uses (default: a causal sliding window of 1024 keys). */
  readonly local?: MaskRecipe | undefined;
  /** Block sizes the recipe's masks are built with (default 64 × 64). */
  readonly blockQ?: number | undefined;
  readonly blockK?: number | undefined;
}

/**
 * A MASFormer-style mixed-span model as a layered recipe: full attention (`dense`) in a few layers for long-range
 * dependencies, a local pattern in all others. Compile it with `compileRecipe(recipe, registry)` and pass the layer
 * index to `attention()`.
 */
export function masformerRecipe(options: MasformerOptions): RecipeDocument {
  const layers = options?.layers;
  if (!Number.isInteger(layers) || layers < 1) {
    throw new SparselandError('E_PARAMS', `masformerRecipe: layers must be an integer >= 1, got ${describeValue(layers)}`);
  }
  const fullLayers = options.fullLayers ?? Array.from({ length: Math.ceil(layers / 8) }, (_, i) => i);
  for (const l of fullLayers) {
    if (!Number.isInteger(l) || l < 0 || l >= layers) {
      throw new SparselandError(
        'E_PARAMS',
        `masformerRecipe: fullLayers must hold layer indices in [0, ${layers}), got ${describeValue(l)}`,
      );
    }
  }
  const local: MaskRecipe = options.local ?? { method: 'sliding-window', params: { window: 1024 } };
  const layerRecipes: Record<string, LayerRecipe> = {};
  for (const l of [...new Set(fullLayers)].sort((a, b) => a - b)) layerRecipes[String(l)] = { default: { method: DENSE_METHOD } };
  const document: RecipeDocument = {
    version: 1,
    description: `MASFormer mix: full attention in layers [${Object.keys(layerRecipes).join(', ')}] of ${layers}, local elsewhere`,
    default: local,
    layers: layerRecipes,
    ...(options.blockQ === undefined ? {} : { blockQ: options.blockQ }),
    ...(options.blockK === undefined ? {} : { blockK: options.blockK }),
  };
  // Validate the structure now (E_RECIPE naming the path) rather than at the first attention call.
  parseRecipe(document);
  return document;
}
