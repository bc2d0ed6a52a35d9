// Errors

export type { AttentionOptions, AttentionResult, AttentionStats } from './attention.js';
export { attention } from './attention.js';
// Backends and the reference
export type {
  AttendOptions,
  AttendResult,
  Backend,
  BlockScores,
  DecodeOptions,
  LastQueriesOptions,
  PooledScoresOptions,
  PoolKind,
  QuantizedScoresOptions,
  ScoreInput,
  ScoreRows,
} from './backend.js';
export type { CostMeter } from './cost.js';
export { createCostMeter } from './cost.js';
export type { SparselandErrorCode } from './errors.js';
export { describeValue, expectInteger, expectNumber, isSparselandError, SparselandError } from './errors.js';
export type { KvCacheLayer, KvPolicy, KvPolicyContext } from './kv-policy.js';
export type { BlockMaskInit, BlockRows } from './masks/block-mask.js';
export { BlockMask, BlockState, causalPairsInBox } from './masks/block-mask.js';
export { intersectBlockMasks, unionBlockMasks } from './masks/block-mask-algebra.js';
export type { BlockSelection } from './masks/block-mask-from-scores.js';
export { blockMaskFromScores } from './masks/block-mask-from-scores.js';
export type { BlockSizes } from './masks/build-block-mask.js';
export { blockMaskFromDense, buildBlockMask, createBlockMask, DEFAULT_BLOCK, resolveBlockSizes } from './masks/build-block-mask.js';
export type { ColumnMaskInit } from './masks/column-mask.js';
export { ColumnMask, intersectColumnMasks, unionColumnMasks } from './masks/column-mask.js';
export { binarySearch, IntList, mergeSortedUnique } from './masks/int-list.js';
export type { MaskMod, ScoreMod } from './masks/mask-mod.js';
// Masks
export { and, causal, composeScoreMods, emptyMask, fullMask, nameMask, not, or } from './masks/mask-mod.js';
export type { HeadGroup } from './masks/merge-heads.js';
export { mergeHeadMasks } from './masks/merge-heads.js';
export type { AttentionMask, SparseMask } from './masks/sparse-mask.js';
export {
  expectMaskFits,
  fillRowMembership,
  intersectMasks,
  sparseMaskAsMaskMod,
  sparseMaskContains,
  sparseMaskToBlockMask,
  sparseMaskToDense,
  toSparseMask,
  unionMasks,
} from './masks/sparse-mask.js';
export type { SlotPrecision, TokenSelectionInit } from './masks/token-selection.js';
export { expectSelectionFits, TokenSelection } from './masks/token-selection.js';
export type { PairCount, PairCountPerHead } from './metrics/count-pairs.js';
// Metrics
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
export { closestName, editDistance } from './plugins/closest-name.js';
// Plugins and registry
export { defineBackend, defineEstimator, defineKvPolicy, definePattern } from './plugins/define.js';
export type { PluginDescription, PluginInput, Registry } from './plugins/registry.js';
export { createRegistry, paramsJsonSchema } from './plugins/registry.js';
export type {
  AnyPlugin,
  BackendPlugin,
  CorrectionCall,
  EstimateResult,
  Estimator,
  EstimatorContext,
  EstimatorInput,
  EstimatorPlugin,
  KvPolicyPlugin,
  MaskBuildOptions,
  OutputCorrection,
  PaperRef,
  PatternInstance,
  PatternPlugin,
  PluginBase,
  PluginKind,
  PluginOfKind,
} from './plugins/types.js';
export type { BuiltMask, CompiledMask, CompiledRecipe, MaskContext } from './recipes/compile.js';
export { compileRecipe, isEstimateResult } from './recipes/compile.js';
export type { LayerRecipe, MaskRecipe, MethodRecipe, Recipe, RecipeDocument } from './recipes/schema.js';
// Recipes and the entry point
export { DENSE_METHOD, parseRecipe } from './recipes/schema.js';
export { fakeQuantizeRow, roundToHalf } from './reference/fake-quantize.js';
export type { LastQueriesCall, PooledScoresCall, QuantizedScoresCall } from './reference/op-options.js';
export {
  resolveLastQueriesCall,
  resolvePooledScoresCall,
  resolveQuantizedScoresCall,
  resolveScoreShape,
} from './reference/op-options.js';
export type { ReferenceDecodeOptions, ReferenceOptions } from './reference/reference-attention.js';
export {
  applySlotPrecision,
  referenceAttention,
  referenceDecode,
  referenceRowProbabilities,
  resolveScale,
} from './reference/reference-attention.js';
export { createReferenceBackend, referenceBackend } from './reference/reference-backend.js';
export {
  maxPoolRows,
  poolRows,
  quantizeRowTo,
  referenceLastQueriesAttention,
  referencePooledScores,
  referenceQuantizedScores,
} from './reference/reference-ops.js';
export type { Rng } from './rng.js';
export { createRng } from './rng.js';
export type { HeadTensor } from './tensor/head-tensor.js';
// Tensors and shapes
export {
  concatPositions,
  createHeadTensor,
  headTensorFromArrays,
  kvHeadOf,
  randomHeadTensor,
  sliceHeads,
  slicePositions,
} from './tensor/head-tensor.js';
export type { AttentionInput, AttentionShape, MaskShape, ValidateOptions } from './tensor/shape.js';
export { expectFinite, expectHeadTensor, resolveAttentionShape } from './tensor/shape.js';
