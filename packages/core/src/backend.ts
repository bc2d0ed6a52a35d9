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
  /**
   * The same probe summed per query head by key column and by diagonal (what vertical-slash and FlexPrefill rank),
   * where the probe is computed: no [heads × count × kvLength] matrix comes back.
   */
  lastQueriesSums(input: ScoreInput, options: LastQueriesOptions): Promise<ProbeSums>;
  /** Q·Kᵀ estimated from int8 / int4 quantised Q and K, for a range of query rows, optionally block-max pooled. */
  quantizedScores(input: ScoreInput, options: QuantizedScoresOptions): Promise<ScoreRows | BlockScores>;
  /**
   * Raw scale · Q·Kᵀ per query head for chosen rows and keys, with optional per-row reductions (max, min, top-k,
   * moments, threshold bits) or per-key column maxima computed where the scores are, so no score matrix has to come
   * back for a selection. See `ScoresOptions`; core's `resolveScoresCall` validates the options for every backend.
   */
  scores(input: ScoreInput, options?: ScoresOptions): Promise<ScoresResult>;
  /**
   * Optional. Marks `input` for a series of `scores` calls (an estimator's iterations over one input): the returned
   * input has the same q, k and qOffset, and a backend may copy its queries and keys once and read those copies in
   * every `scores` call given the returned object, instead of copying them per call. Results equal those with
   * `input`. Until `release()` the caller must not change q or k; after it, the returned input still works (as a
   * plain one). Backends without it are called with the plain input (`backend.prepareScoreInput?.(x) ?? x`).
   */
  prepareScoreInput?(input: ScoreInput): PreparedScoreInput;
  /**
   * Optional. A zero-filled [heads, length, dim] tensor in the backend's own memory, for tensors that calls fill and
   * read again and again (a model's queries, keys, values and attention outputs): `attend` and `decode` read such a
   * q or v and write such an `out` where they are, instead of copying them in and out per call. It is a plain
   * HeadTensor otherwise, for every op of every backend. After `release()` it must not be used. Backends without it:
   * use `createHeadTensor`.
   */
  allocateTensor?(heads: number, length: number, dim: number): Promise<BackendTensor>;
  /**
   * Takes a weight matrix W [outDim × inDim] once (copied or packed into the backend's own memory, or kept as a view:
   * do not change the array while the handle is in use) for `run(x, rows)`: y = x·Wᵀ, the linear layers of a model.
   */
  prepareLinear(weights: Float32Array, shape: LinearShape): Promise<PreparedLinear>;
  /**
   * Keys and values that stay in the backend across decode steps: append each new token's key and value and decode
   * against the store, so nothing already stored is copied or re-packed again.
   */
  createKvStore(shape: KvStoreShape): Promise<KvStore>;
  /** Releases threads, GPU buffers and caches. The backend must not be used afterwards. */
  dispose(): Promise<void>;
}

/** Q and K only, for the estimator ops. */
export interface ScoreInput {
  readonly q: HeadTensor;
  readonly k: HeadTensor;
  readonly qOffset?: number;
}

/** A tensor in a backend's own memory (`Backend.allocateTensor`). */
export interface BackendTensor {
  readonly tensor: HeadTensor;
  /** Gives the memory back to the backend (after the calls under way); idempotent. The tensor must not be used afterwards. */
  release(): void;
}

/** A ScoreInput a backend may keep copies of until `release()` (see `Backend.prepareScoreInput`). */
export interface PreparedScoreInput extends ScoreInput {
  /** Frees the backend's copies (at once or after the calls under way); idempotent. */
  release(): void;
}

export interface AttendOptions {
  /** Pairs to compute; absent means dense. */
  readonly mask?: SparseMask | undefined;
  /** Drop pairs with key position > query position (default true). */
  readonly causal?: boolean | undefined;
  /** Logit scale (default 1/√dim). */
  readonly scale?: number | undefined;
  readonly scoreMod?: ScoreMod | undefined;
  /**
   * A tensor to write the output into: [Hq, qLength, dim], its memory not shared with q, k or v. The result's
   * `output` is then this tensor. Reusing one across calls of the same shape spares allocating (and, on machines
   * where fresh memory is slow to map, first-touching) a new output each call.
   */
  readonly out?: HeadTensor | undefined;
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

/**
 * Per query head, the probe rows' softmax summed by key column (`vertical`) and by diagonal δ = qPos − kPos (`slash`,
 * δ at index δ + slashOrigin; slashOrigin = kvLength − 1, so negative δ, which only non-causal calls have, fit too).
 */
export interface ProbeSums {
  readonly kind: 'probe-sums';
  readonly heads: number;
  readonly rowStart: number;
  readonly rows: number;
  readonly kvLength: number;
  /** [heads][kvLength]. */
  readonly vertical: Float64Array;
  /** [heads][slashLength]. */
  readonly slash: Float64Array;
  readonly slashOrigin: number;
  /** Diagonals per head: slashOrigin + the last probe row's position + 1. */
  readonly slashLength: number;
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
  /**
   * Subtracted from every estimated logit of a query row before rows are returned or pooled: `[heads][rows]` (with
   * `pool`, `[heads][qLength]`), finite. SALE's per-row threshold: a pooled value > 0 then means some element of
   * the block passed its row's threshold.
   */
  readonly rowBias?: Float32Array;
  /**
   * Rows sharing one quantisation scale (the absmax of the group): `q` consecutive query rows, `k` consecutive keys
   * of a head (SALE's per-warp-group scales). Default 1: per token.
   */
  readonly groups?: { readonly q?: number; readonly k?: number };
}

/** A weight matrix for `prepareLinear`: W is [outDim × inDim], row-major (out, in), as PyTorch and llama2.c store it. */
export interface LinearShape {
  readonly outDim: number;
  readonly inDim: number;
}

/** A weight matrix a backend holds: `run` multiplies rows by it. */
export interface PreparedLinear extends LinearShape {
  /**
   * y[r·outDim + o] = Σ_j x[r·inDim + j] · W[o·inDim + j] for r < rows: y = x·Wᵀ, [rows × outDim]. Writes into `out`
   * when given (at least rows·outDim floats, not overlapping x), else returns a new array.
   */
  run(x: Float32Array, rows: number, out?: Float32Array): Promise<Float32Array>;
  /** Frees what the backend holds for it (it is also freed with the backend); run() afterwards throws. */
  dispose(): void;
}

export interface KvStoreShape {
  readonly kvHeads: number;
  readonly dim: number;
}

export interface KvStoreDecodeOptions extends DecodeOptions {
  /** Absolute position of the first query row (default: the longest head's length − q.length). */
  readonly qOffset?: number | undefined;
}

/**
 * Keys and values resident in a backend for decoding (one store per model layer). Each kv head holds its own number
 * of slots, so a cache whose KV policy evicted per head is mirrored exactly. `decode(q, options)` equals the reference
 * `decode` over the stored keys and values zero-padded to the longest head (width), where a head shorter than width
 * reads only its own slots unless `selection` says which slots to read (slot s of a head sits at position s).
 */
export interface KvStore extends KvStoreShape {
  /** Slots held by kv head g. */
  length(g: number): number;
  /** Appends `count` slots to every head: k and v are [kvHeads, count, dim]. */
  append(k: HeadTensor, v: HeadTensor): Promise<void>;
  /** Replaces everything kv head g holds by `keys` and `values` ([n × dim] each, the same n). */
  setHead(g: number, keys: Float32Array, values: Float32Array): Promise<void>;
  /** Attention of q [Hq, qLength, dim] over the stored slots. */
  decode(q: HeadTensor, options?: KvStoreDecodeOptions): Promise<AttendResult>;
  /** Frees the backend memory; the store must not be used afterwards. */
  dispose(): void;
}

/** A contiguous range of query rows or keys: [start, start + count). */
export interface IndexRange {
  readonly start: number;
  readonly count: number;
}

/**
 * Keys chosen per group of requested query rows (HiP's per-block candidates): group t is requested rows
 * [groups[t], groups[t + 1]); query head h and group t score keys indices[offsets[h·G + t], offsets[h·G + t + 1]),
 * strictly increasing, where G = groups.length − 1.
 */
export interface KeyGroups {
  readonly groups: Int32Array;
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
}

/**
 * Reductions of a `scores` call, computed by the backend where the scores are. "Visible" keys of a row are the
 * requested keys that its causality and window allow.
 */
export interface ScoreReductions {
  /** Per row: the largest visible score and the first key holding it (-Infinity and -1 when none is above -Infinity). */
  readonly max?: boolean | undefined;
  /** Per row: the smallest visible score and the first key holding it (+Infinity and -1 when none is below +Infinity). */
  readonly min?: boolean | undefined;
  /**
   * Per row: the k largest visible scores, largest first, ties to the lower key index; NaN and -Infinity are never
   * chosen, and rows with fewer candidates are padded with -Infinity and key -1. At most MAX_SCORES_TOP_K.
   */
  readonly topK?: number | undefined;
  /** Per row: the number of visible keys and the sum and sum of squares of their float32 scores, in float64, in key order. */
  readonly moments?: boolean | undefined;
  /**
   * One threshold per (query head, requested row), row-major: a bit per key slot, set when the key is visible and its
   * score is ≥ the row's threshold (compared in float64; NaN never passes).
   */
  readonly atLeast?: Float64Array | undefined;
  /** With `keys` as KeyGroups only: per listed key, the largest score over its group's rows (-Infinity when none). */
  readonly columnMax?: boolean | undefined;
}

export interface ScoresOptions {
  /** Multiplies every dot product (default 1: raw Q·Kᵀ). */
  readonly scale?: number | undefined;
  /** A key after a row's position is not visible to it (default true). */
  readonly causal?: boolean | undefined;
  /** Only keys after a row's position minus `window` are visible (a sliding window of this many positions; default none). */
  readonly window?: number | undefined;
  /**
   * Mean-pool the query rows in blocks of this many (default 1: the rows themselves). Row r of the call is then block
   * r, at the position of the block's last row.
   */
  readonly queryBlock?: number | undefined;
  /** Requested (pooled) query rows, the same for every head: a range or a strictly increasing list (default all). */
  readonly rows?: IndexRange | Int32Array | undefined;
  /** Keys: a range, a strictly increasing list, or per-group lists (default all keys). */
  readonly keys?: IndexRange | Int32Array | KeyGroups | undefined;
  /** Return the scores themselves (default: only when no reduction is asked; not with KeyGroups). */
  readonly output?: boolean | undefined;
  readonly reduce?: ScoreReductions | undefined;
  /**
   * Arrays to write results into instead of new ones. `columnMax` (with reduce.columnMax): a Float32Array at least
   * as long as keys.indices, not sharing memory with q or k; its first indices.length entries are written and the
   * result's `columnMax` is that view. Reusing one across the calls of a loop (HiP's tree search) spares allocating,
   * and on machines where fresh memory is slow to map first-touching, a large array per call.
   */
  readonly into?: { readonly columnMax?: Float32Array | undefined } | undefined;
}

/**
 * What a `scores` call returns; arrays are row-major over (query head, requested row, ...). Key slot j of a row is
 * the j-th requested key (start + j of a range, list[j] of a list); key indices in `max`, `min` and `topK` are absolute.
 */
export interface ScoresResult {
  readonly kind: 'scores';
  readonly heads: number;
  /** Requested rows per head. */
  readonly rows: number;
  /** Key slots per row (0 with KeyGroups). */
  readonly keys: number;
  /** [heads][rows][keys]: scale · q · k, -Infinity where the key is not visible. */
  readonly scores?: Float32Array;
  readonly max?: { readonly values: Float32Array; readonly indices: Int32Array };
  readonly min?: { readonly values: Float32Array; readonly indices: Int32Array };
  /** [heads][rows][k]. */
  readonly topK?: { readonly k: number; readonly values: Float32Array; readonly indices: Int32Array };
  readonly moments?: { readonly count: Int32Array; readonly sum: Float64Array; readonly sumSquares: Float64Array };
  /** [heads][rows][words]: bit (j & 31) of word j >> 5 is key slot j. */
  readonly atLeast?: { readonly words: number; readonly bits: Int32Array };
  /** One value per entry of KeyGroups.indices. */
  readonly columnMax?: Float32Array;
}
