// @sparseland/core/kit: what plugin and backend authors need besides the public API of `@sparseland/core`.

// Validation at a public boundary: coded errors that say what was expected and what came
export { describeValue, expectInteger, expectNumber } from './errors.js';
export type { ValidateOptions } from './tensor/shape.js';
export { expectFinite, expectHeadTensor, resolveAttentionShape } from './tensor/shape.js';
export { expectMaskFits, fillRowMembership } from './masks/sparse-mask.js';
export { expectSelectionFits } from './masks/token-selection.js';
export { closestName, editDistance } from './plugins/closest-name.js';
export { expectModdedScore } from './masks/mask-mod.js';
export { expectSeed } from './rng.js';
export { expectCausalPositions, expectInputsInRange, expectTensorSize } from './tensor/shape.js';

// Parameters: zod helpers with a default and a description (JSON schema for forms)
export { flagParam, intParam, numberParam } from './plugins/params.js';
export { parseOptions } from './plugins/zod-errors.js';

// Writing estimators: their input, context, cost meter, output corrections and seeded randomness
export type {
  CorrectionCall,
  EstimateResult,
  Estimator,
  EstimatorContext,
  EstimatorInput,
  MaskBuildOptions,
  OutputCorrection,
  PatternInstance,
} from './plugins/types.js';
export type { CostMeter } from './cost.js';
export { createCostMeter } from './cost.js';
export { isEstimateResult } from './recipes/compile.js';
export type { Rng } from './rng.js';
export { createRng } from './rng.js';

// Writing KV-cache policies: the cache they manage, per-head views and routing, packed blocks and decode calls
export type { KvBudget, KvCacheLayer, KvPolicy, KvPolicyContext } from './kv-policy.js';
export type { KvHeadGroup } from './kv/kv-head-view.js';
export { kvHeadView, routeKvPolicies } from './kv/kv-head-view.js';
export { KvMirror } from './kv/kv-mirror.js';
export type { GatherScratch } from './kv/layer-kv-cache.js';
export { LayerKvCache } from './kv/layer-kv-cache.js';
export {
  expectPackedKvCache,
  packedBlockBytes,
  packedHeadLength,
  packedRowBytes,
  readCode,
  unpackKvHead,
} from './kv/packed-kv.js';
export type { PackedDecodeCall } from './kv/packed-decode.js';
export { packedLastVisible, resolvePackedDecodeCall } from './kv/packed-decode.js';

// Building masks: block sizes, CSR construction, per-head merging
export { buildBlockMask, resolveBlockSizes } from './masks/build-block-mask.js';
export { causalPairsInBox } from './masks/block-mask.js';
export type { HeadGroup } from './masks/merge-heads.js';
export { mergeHeadMasks } from './masks/merge-heads.js';

// Growable int lists and sorted-list helpers
export { binarySearch, IntList, lowerBound, mergeSortedUnique } from './masks/int-list.js';

// Writing backends: one resolver per op (attend and decode too), the mask-tiling visitor both backends plan with,
// the estimator ops' types, the float64 reference ops
export type {
  BlockScores,
  IndexRange,
  KeyGroups,
  LastQueriesOptions,
  PooledScoresOptions,
  PoolKind,
  PreparedScoreInput,
  ProbeSums,
  QuantizedScoresOptions,
  ScoreInput,
  ScoreReductions,
  ScoreRows,
  ScoresOptions,
  ScoresResult,
} from './backend.js';
export type { LastQueriesCall, PooledScoresCall, QuantizedScoresCall, ScoresCall, ScoresKeys } from './reference/op-options.js';
export {
  columnMaxArray,
  MAX_SCORES_OUTPUT,
  MAX_SCORES_TOP_K,
  resolveLastQueriesCall,
  resolvePooledScoresCall,
  MAX_QUANT_GROUP,
  resolveQuantizedScoresCall,
  resolveScoreShape,
  resolveScoresCall,
  scoresKeyAt,
} from './reference/op-options.js';
export type { AttendCall, AttendCallOptions, DecodeCall } from './reference/attend-call.js';
export { resolveAttendCall, resolveDecodeCall, resolveScale, resultInto } from './reference/attend-call.js';
export type { MaskTileOptions, MaskTileSink } from './masks/mask-tiles.js';
export { MaskTiles } from './masks/mask-tiles.js';
export { applySlotPrecision, referenceRowProbabilities } from './reference/reference-attention.js';
export {
  channelMeans,
  maxPoolRows,
  poolRows,
  probeSumsLayout,
  quantizeRowsGrouped,
  quantizeRowTo,
  referenceLastQueriesAttention,
  referenceLastQueriesSums,
  referencePooledScores,
  referenceQuantizedScores,
  sumProbeRows,
} from './reference/reference-ops.js';
export { referenceScores } from './reference/reference-scores.js';
export { fakeQuantizeRow, roundToHalf } from './reference/fake-quantize.js';

// Writing backends: linear layers (y = x·Wᵀ) and resident KV stores, their resolvers and host implementations
export type { LinearCall } from './reference/linear.js';
export { createHostLinear, expectLinearWeights, referenceLinear, resolveLinearCall } from './reference/linear.js';
export type { KvStoreDecodeCall, KvStoreState } from './reference/kv-store.js';
export {
  createHostKvStore,
  expectKvStoreShape,
  gatherKvStore,
  resolveKvStoreAppend,
  resolveKvStoreDecode,
  resolveKvStoreSetHead,
} from './reference/kv-store.js';
