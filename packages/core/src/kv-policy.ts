import type { TokenSelection } from './masks/token-selection.js';
import type { HeadTensor } from './tensor/head-tensor.js';

/**
 * One layer's KV cache as a policy sees it. Storage is per kv head so a policy can keep a different number of
 * slots per head (a truly ragged cache saves memory; masking does not).
 */
export interface KvCacheLayer {
  readonly layer: number;
  readonly kvHeads: number;
  readonly dim: number;
  /** Slots currently held by kv head g. */
  length(g: number): number;
  /** Keys of kv head g, [length(g) × dim] (a view). */
  keys(g: number): Float32Array;
  /** Values of kv head g, [length(g) × dim] (a view). */
  values(g: number): Float32Array;
  /** Absolute token position of each slot of kv head g (a view). */
  positions(g: number): Int32Array;
  /** Keeps only the given slots (strictly increasing) of kv head g, compacting storage. */
  retain(g: number, slots: Int32Array): void;
  /** Bytes held by this layer's keys and values. */
  bytes(): number;
}

export interface KvPolicyContext {
  readonly layer: number;
  /** Decode steps done so far (0 during prefill). */
  readonly step: number;
  /** Absolute position of the newest token. */
  readonly position: number;
}

/**
 * Decode-time cache management (DESIGN §5): scorer → selector → schedule → storage action, behind three hooks.
 * Every hook is optional; a policy with none of them is the full cache.
 */
export interface KvPolicy {
  readonly name: string;
  /** After prefill wrote the prompt's keys and values (may evict or compress). */
  afterPrefill?(cache: KvCacheLayer, queries: HeadTensor, ctx: KvPolicyContext): void;
  /** Before a decode step's attention: which slots to read (undefined = all). Only for caches of equal length per head. */
  select?(cache: KvCacheLayer, query: HeadTensor, ctx: KvPolicyContext): TokenSelection | undefined;
  /** After the step's key and value were appended. */
  afterAppend?(cache: KvCacheLayer, ctx: KvPolicyContext): void;
}
