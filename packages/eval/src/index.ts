export { type BudgetParam, budgetParam, type MatchDensityOptions, type MatchedBudget, matchDensity } from './budget.js';
export { type EndToEndOptions, type EndToEndReport, type EndToEndResult, endToEnd } from './end-to-end.js';
export { type EvalProgress, type EvaluateOptions, evaluateMethods } from './evaluate.js';
export { type EstimationCost, type EstimationCostOptions, estimationCost, type Timing } from './estimation-cost.js';
export { findMethod, methodNames } from './find-method.js';
export { MAX_MEASURE_ROUNDS, measureInRounds, type RoundsOptions } from './measure-rounds.js';
export { WORKLOAD_LIMITS } from './limits.js';
export {
  compareKvPolicies,
  DEFAULT_KV_TEXTS,
  type KvCompareOptions,
  type KvCompareReport,
  type KvResult,
  type KvSummary,
  type KvText,
  splitKvRecipe,
} from './kv/kv-compare.js';
export { formatKvReport } from './kv/format-kv.js';
export { type NeedleTrace, type NeedleTraceOptions, needleTraces } from './kv/needle-traces.js';
export { kvTradeoffSpec, kvTradeoffSvg } from './plots/kv-charts.js';
export { type PlantedNeedleOptions, type PlantedNeedleResult, plantedDecodeNeedles } from './kv/planted-needles.js';
export { type HeadMeasurement, type HeadTotals, measureItem, relativeError, sumHeadMeasurements } from './metrics/item-metrics.js';
export {
  FIXTURE_DEFAULTS,
  FIXTURE_MODELS,
  FIXTURE_TEXTS,
  type FixtureModelName,
  type FixtureTextName,
  type LoadedModel,
  loadFixtureModel,
  passageTokens,
  readFixtureText,
} from './models/fixture-model.js';
export { computeDenseOracle, type DenseOracle } from './oracle/dense-oracle.js';
export { defaultRowCount, sampleRows } from './oracle/row-sample.js';
export { densityRecallSpec, densityRecallSvg, type SpeedRecord, speedSpec, speedSvg } from './plots/charts.js';
export { paretoFront, type TradeoffPoint } from './plots/pareto.js';
export { renderVegaLite } from './plots/render-svg.js';
export { formatEndToEnd, formatEvalReport, formatHeads } from './results/format-report.js';
export { type Column, formatTable } from './results/text-table.js';
export type { EvalReport, HeadResult, MethodResult, MethodSpec, ResultSummary, WorkloadSummary } from './results/types.js';
export { allocate, type Option } from './search/allocate.js';
export type { CalibrationItem, TraceSource } from './search/calibration.js';
export { defaultCandidates } from './search/candidates.js';
export {
  type CandidatePoint,
  type HeadChoice,
  type SearchOptions,
  type SearchResult,
  searchRecipe,
} from './search/search-recipe.js';
export { type SpeedOptions, type SpeedResult, speedVsLength } from './speed.js';
export {
  DEFAULT_SWEEP_DENSITIES,
  formatValue,
  mergeReports,
  type SweepOptions,
  type SweepPoint,
  type SweepReport,
  sweep,
} from './sweep.js';
export { type MqarOptions, mqarWorkload } from './workloads/mqar.js';
export { type RealTraceOptions, realTraceWorkload } from './workloads/real-trace.js';
export {
  DEFAULT_STRUCTURE,
  lengthLabel,
  type SyntheticOptions,
  type SyntheticStructure,
  syntheticWorkload,
} from './workloads/synthetic.js';
export { collectItems, eachItem, lazyItems, type Needle, type Workload, type WorkloadItem, workloadSize } from './workloads/workload.js';
