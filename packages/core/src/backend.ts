import type { PackedDecodeInput, PackedDecodeOptions } from './kv/packed-decode.js';
import type { ScoreMod } from './masks/mask-mod.js';
import type { SparseMask } from './masks/sparse-mask.js';
import type { TokenSelection } from './masks/token-selection.js';
import type { HeadTensor } from './tensor/head-tensor.js';
import type { AttentionInput } from './tensor/shape.js';

/**
 * The one contract every backend implements (reference, CPU, gpu.js). Inputs follow core's conventions
 * (HeadTensor layout, GQA, qOffset); `attention()` validates them once, so backends may trust them.
 * Every op is async so GPU and worker-thread backends fit the same shape.
 */
export interface Backend {
  /** Backend name, e.g. `reference`, `cpu`, `gpujs`. */
  readonly name: string;
  /** Which implementation or mode runs, e.g. `wasm`, `ts`, `webgpu`. */
  readonly impl: string;
  /** Sparse or dense attention with online softmax. */
  attend(input: AttentionInput, options?: AttendOptions): Promise<AttendResult>;
  /** Attention of a few new queries over a cache, reading only the selected slots. */
  decode(input: AttentionInput, options?: DecodeOptions): Promise<AttendResult>;
  /**
   * Decode over a cache held partly as packed int2 / int4 / int8 blocks (KIVI's layout) plus full-precision rows,
   * reading the codes directly; it must match `referenceDecodePacked` (attention over the dequantised values).
   */
  decodePacked(input: PackedDecodeInput, options?: PackedDecodeOptions): Promise<AttendResult>;
  /** Pooled Q · pooled Kᵀ per (query block, key block): the cheap estimate block estimators rank. */
  pooledScores(input: ScoreInput, options: PooledScoresOptions): Promise<BlockScores>;
  /** softmax of the last `count` queries against every key (the vertical-slash / FlexPrefill probe). */
  lastQueriesAttention(input: ScoreInput, options: LastQueriesOptions): Promise<ScoreRows>;
  /** Q·Kᵀ estimated from int8 / int4 quantised Q and K, for a range of query rows, optionally block-max pooled. */
  quantizedScores(input: ScoreInput, options: QuantizedScoresOptions): Promise<ScoreRows | BlockScores>;
  /** Releases threads, GPU buffers and caches. The backend must not be used afterwards. */
  dispose(): Promise<void>;
}

/** Q and K only, for the estimator ops. */
export interface ScoreInput {
  readonly q: HeadTensor;
  readonly k: HeadTensor;
  readonly qOffset?: number;
}

export interface AttendOptions {
  /** Pairs to compute; absent means dense. */
  readonly mask?: SparseMask | undefined;
  /** Drop pairs with key position > query position (default true). */
  readonly causal?: boolean | undefined;
  /** Logit scale (default 1/√dim). */
  readonly scale?: number | undefined;
  readonly scoreMod?: ScoreMod | undefined;
}

export interface DecodeOptions {
  /** Slots to read per kv head; absent means the whole cache. */
  readonly selection?: TokenSelection | undefined;
  readonly causal?: boolean | undefined;
  readonly scale?: number | undefined;
  readonly scoreMod?: ScoreMod | undefined;
}

/**
 * `output` is [Hq, qLength, dim]. `lse[h·qLength + i]` is the natural-log sum of exp(scaled logits) over the row's
 * kept keys: -Infinity for a row that keeps nothing (whose output is zeros).
 */
export interface AttendResult {
  readonly output: HeadTensor;
  readonly lse: Float32Array;
}

export type PoolKind = 'mean' | 'max' | 'min';

export interface PooledScoresOptions {
  readonly blockQ: number;
  readonly blockK: number;
  readonly qPool?: PoolKind;
  readonly kPool?: PoolKind;
  /** Multiplies the pooled dot products (default 1: raw dot products, as MInference's block-sparse estimate). */
  readonly scale?: number;
  /** Blocks entirely in the future get -Infinity (default true). */
  readonly causal?: boolean;
}

/** Scores per (query head, query block, key block), row-major. */
export interface BlockScores {
  readonly kind: 'blocks';
  readonly data: Float32Array;
  readonly heads: number;
  readonly qBlocks: number;
  readonly kBlocks: number;
  readonly blockQ: number;
  readonly blockK: number;
}

export interface LastQueriesOptions {
  /** How many of the last query rows to probe (clamped to qLength). */
  readonly count: number;
  readonly causal?: boolean;
  readonly scale?: number;
}

/** Values per (query head, query row in [rowStart, rowStart + rows), key), row-major. */
export interface ScoreRows {
  readonly kind: 'rows';
  readonly data: Float32Array;
  readonly heads: number;
  readonly rowStart: number;
  readonly rows: number;
  readonly kvLength: number;
}

export interface QuantizedScoresOptions {
  readonly bits: 8 | 4;
  /** Query rows [start, start + count) (default: all rows). */
  readonly rows?: { readonly start: number; readonly count: number };
  /** Subtract K's per-channel mean before quantising (SALE's smoothing; softmax is unchanged). Default true. */
  readonly smoothK?: boolean;
  /** Logit scale (default 1/√dim). */
  readonly scale?: number;
  /** Future keys get -Infinity (default true). */
  readonly causal?: boolean;
  /** When set, return the max estimated logit per (query block, key block) instead of rows. */
  readonly pool?: { readonly blockQ: number; readonly blockK: number };
}
