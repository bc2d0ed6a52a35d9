/**
 * The sizes a user controls and their stated upper bounds. Anything larger is refused with a coded
 * SparselandError before any allocation, instead of ending in an engine error ("Invalid typed array length"), an
 * out-of-memory kill or a stack overflow. They are generous for what runs in one JavaScript process.
 */
export const LIMITS = Object.freeze({
  /** Query or kv heads of one tensor. */
  heads: 1024,
  /** Positions of one tensor (sequence length, cache length). */
  length: 1 << 21,
  /** Head dimension. */
  dim: 1024,
  /** Values of one HeadTensor (heads · length · dim): 2^30 floats = 4 GiB. */
  tensorValues: 2 ** 30,
  /** Input or output features of one linear layer (`prepareLinear`): vocabularies of classifiers included. */
  linearDim: 1 << 20,
  /** Layers a recipe or a model may name (recipe layer keys are below it). */
  layers: 4096,
  /** Nesting depth of union / intersect in a recipe. */
  recipeDepth: 32,
  /** Masks (methods, unions, intersections) in one recipe document, over all layers and heads. */
  recipeNodes: 16384,
  /** Seeds are 32-bit unsigned integers. */
  seed: 2 ** 32 - 1,
  /** Largest |logit| (after scale) the float32 kernels are guaranteed to handle; see `attention()`'s finiteness rule. */
  logit: 1e30,
});

export type Limits = typeof LIMITS;
