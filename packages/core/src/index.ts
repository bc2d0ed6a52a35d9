// @sparseland/core: what users call. Plugin and backend authors find their helpers in `@sparseland/core/kit`.

// Errors and limits
export type { SparselandErrorCode } from './errors.js';
export { isSparselandError, SparselandError } from './errors.js';
export type { Limits } from './limits.js';
export { LIMITS } from './limits.js';

// Tensors and shapes
export type { HeadTensor } from './tensor/head-tensor.js';
export {
  concatPositions,
  createHeadTensor,
  headTensorFromArrays,
  kvHeadOf,
  randomHeadTensor,
  sliceHeads,
  slicePositions,
} from './tensor/head-tensor.js';
export type { AttentionInput, AttentionShape, MaskShape } from './tensor/shape.js';

// Masks and their algebra
export type { MaskMod, ScoreMod } from './masks/mask-mod.js';
export { and, causal, composeScoreMods, emptyMask, fullMask, nameMask, not, or } from './masks/mask-mod.js';
export type { BlockMaskInit, BlockRows } from './masks/block-mask.js';
export { BlockMask, BlockState } from './masks/block-mask.js';
export type { BlockSizes } from './masks/build-block-mask.js';
export { blockMaskFromDense, createBlockMask, DEFAULT_BLOCK } from './masks/build-block-mask.js';
export type { BlockSelection } from './masks/block-mask-from-scores.js';
export { blockMaskFromScores } from './masks/block-mask-from-scores.js';
export { intersectBlockMasks, unionBlockMasks } from './masks/block-mask-algebra.js';
export type { ColumnMaskInit } from './masks/column-mask.js';
export { ColumnMask, intersectColumnMasks, unionColumnMasks } from './masks/column-mask.js';
export type { AttentionMask, SparseMask } from './masks/sparse-mask.js';
export {
  intersectMasks,
  sparseMaskAsMaskMod,
  sparseMaskContains,
  sparseMaskToBlockMask,
  sparseMaskToDense,
  toSparseMask,
  unionMasks,
} from './masks/sparse-mask.js';
export type { SlotPrecision, TokenSelectionInit } from './masks/token-selection.js';
export { TokenSelection } from './masks/token-selection.js';

// The entry point and the backend contract
export type { AttentionOptions, AttentionResult, AttentionStats } from './attention.js';
export { attention } from './attention.js';
export type {
  AttendOptions,
  AttendResult,
  Backend,
  BackendTensor,
  DecodeOptions,
  KvStore,
  KvStoreDecodeOptions,
  KvStoreShape,
  LinearShape,
  PreparedLinear,
} from './backend.js';

// Packed low-bit KV caches (KIVI's layout) and decoding over them
export type { PackedBits, PackedKvBlock, PackedKvCache, PackedKvHead, PackOptions } from './kv/packed-kv.js';
export { DEFAULT_PACK_GROUP, PACKED_BITS, packedKvBytes, packKvBlock, unpackKvBlock } from './kv/packed-kv.js';
export type { PackedDecodeInput, PackedDecodeOptions } from './kv/packed-decode.js';

// The float64 reference: the oracle of every test and metric
export type { ReferenceDecodeOptions, ReferenceOptions } from './reference/reference-attention.js';
export { referenceAttention, referenceDecode } from './reference/reference-attention.js';
export { referenceDecodePacked } from './kv/packed-decode.js';
export { createReferenceBackend, referenceBackend } from './reference/reference-backend.js';

// Metrics
export type { PairCount, PairCountPerHead } from './metrics/count-pairs.js';
export {
  attentionFlops,
  countKeptPairs,
  countKeptPairsPerHead,
  denseAttentionFlops,
  densePairs,
  density,
  maskedAttentionFlops,
} from './metrics/count-pairs.js';
export type { RecallOptions, RecallResult } from './metrics/recall.js';
export { attentionRecall, outputError } from './metrics/recall.js';

// Plugins and the registry
export type {
  AnyPlugin,
  BackendPlugin,
  BudgetDeclaration,
  EstimatorPlugin,
  KvPolicyPlugin,
  PaperRef,
  PatternPlugin,
  PluginBase,
  PluginBudget,
  PluginKind,
  PluginOfKind,
} from './plugins/types.js';
export { defineBackend, defineEstimator, defineKvPolicy, definePattern } from './plugins/define.js';
export type { PluginDescription, PluginInput, Registry } from './plugins/registry.js';
export { createRegistry, paramsJsonSchema } from './plugins/registry.js';

// Recipes
export type { LayerRecipe, MaskRecipe, MethodRecipe, Recipe, RecipeDocument } from './recipes/schema.js';
export { DENSE_METHOD, parseRecipe } from './recipes/schema.js';
export type { BuiltMask, CompiledMask, CompiledRecipe, MaskContext } from './recipes/compile.js';
export { compileRecipe, isCompiledRecipe } from './recipes/compile.js';
