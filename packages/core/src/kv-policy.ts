import type { PackedKvCache, PackOptions } from './kv/packed-kv.js';
import type { TokenSelection } from './masks/token-selection.js';
import type { HeadTensor } from './tensor/head-tensor.js';

/**
 * One layer's KV cache as a policy sees it. Storage is per kv head so a policy can keep a different number of
 * slots per head (a truly ragged cache saves memory; masking does not). Slots [0, packedLength(g)) of a head are
 * held as packed low-bit blocks (KIVI-style), the rest in full precision; keys are stored after RoPE at their own
 * absolute positions, so evicting never changes what the kept keys mean.
 */
export interface KvCacheLayer {
  readonly layer: number;
  readonly kvHeads: number;
  readonly dim: number;
  /** Slots currently held by kv head g. */
  length(g: number): number;
  /** Tokens written to this layer so far, evicted ones included. */
  written(): number;
  /**
   * Keys of kv head g, [length(g) × dim]: a view while the head holds no packed slot, else a dequantised copy
   * (packed slots first, as `unpackKvBlock` defines them).
   */
  keys(g: number): Float32Array;
  /** Values of kv head g, [length(g) × dim], as `keys`. */
  values(g: number): Float32Array;
  /** Absolute token position of each slot of kv head g (a view). */
  positions(g: number): Int32Array;
  /** Slots of kv head g held packed: they come first, [0, packedLength(g)). */
  packedLength(g: number): number;
  /**
   * Keeps only the given slots (strictly increasing) of kv head g, compacting storage and freeing memory. Dropping
   * packed slots re-packs the remaining tokens of the blocks they were in.
   */
  retain(g: number, slots: Int32Array): void;
  /**
   * Moves the given full-precision slots (strictly increasing, all >= packedLength(g)) of kv head g into one new
   * packed block after the existing ones; slot numbers change accordingly (packed first, then full precision).
   */
  pack(g: number, slots: Int32Array, options: PackOptions): void;
  /** The cache as a backend's `decodePacked` reads it (views, no copy of the packed codes). */
  packedView(): PackedKvCache;
  /** Bytes held by this layer: full-precision rows, packed codes with their scales and mins, and slot positions. */
  bytes(): number;
}

export interface KvPolicyContext {
  readonly layer: number;
  /** Layers of the model (per-layer budgets such as PyramidKV's need it). */
  readonly layers: number;
  /** Decode steps done so far (0 during prefill). */
  readonly step: number;
  /** Absolute position of the newest token. */
  readonly position: number;
  /**
   * An object unique to the inference session: the key for state a policy shares across the layers of one session
   * (TidalDecode reuses one layer's token selection in the following layers). Caches are per layer, so they cannot be.
   */
  readonly session: object;
}

/**
 * What a policy promises about one layer after each of its hooks, summed over the layer's kv heads: `slots` held
 * by the cache and `selected` slots one decode step reads. Absent means no bound (the full cache keeps everything;
 * a select-only policy evicts nothing). The conformance kit checks both after every hook.
 */
export interface KvBudget {
  readonly slots?: number | undefined;
  readonly selected?: number | undefined;
}

/**
 * Decode-time cache management (DESIGN §5): scorer → selector → schedule → storage action, behind three hooks.
 * Every hook is optional; a policy with none of them is the full cache. A policy keeps per-cache state (keyed by
 * the KvCacheLayer object), so one policy object may serve several sessions.
 */
export interface KvPolicy {
  readonly name: string;
  /** After prefill wrote the prompt's keys and values (may evict or compress). `queries` are the prompt's, after RoPE. */
  afterPrefill?(cache: KvCacheLayer, queries: HeadTensor, ctx: KvPolicyContext): void;
  /**
   * Before a decode step's attention, after its key and value were appended: which slots to read (undefined =
   * all). A selection's kvLength is the longest head's length; a shorter head's slots must be below its length.
   */
  select?(cache: KvCacheLayer, query: HeadTensor, ctx: KvPolicyContext): TokenSelection | undefined;
  /** After the step's attention ran; `query` is the step's query [Hq, 1, dim] (accumulated-attention scorers need it). */
  afterAppend?(cache: KvCacheLayer, query: HeadTensor, ctx: KvPolicyContext): void;
  /** The bounds this policy keeps for the layer right now (see KvBudget). */
  budget?(cache: KvCacheLayer, ctx: KvPolicyContext): KvBudget;
  /** Bytes of the policy's own per-layer state (page bounds, label caches, accumulated scores). */
  stateBytes?(cache: KvCacheLayer): number;
}
