import { type HeadTensor, SparselandError } from '@sparseland/core';
import { describeValue, type KvCacheLayer } from '@sparseland/core/kit';

/**
 * One layer's KV cache: separate growable storage per kv head, so a KV policy can keep a different number of slots
 * per head and really free the memory (core's `KvCacheLayer`). Slots are kept in the order they were written;
 * `positions(g)` says which token each slot holds.
 */
export class LayerKvCache implements KvCacheLayer {
  readonly layer: number;
  readonly kvHeads: number;
  readonly dim: number;
  private readonly keyStore: Float32Array[];
  private readonly valueStore: Float32Array[];
  private readonly positionStore: Int32Array[];
  private readonly lengths: Int32Array;
  /** Per head, bumped whenever its slots change other than by append (see revision()). */
  private readonly revisions: Int32Array;
  /** Tokens written so far (whatever was evicted since). */
  private written = 0;

  constructor(layer: number, kvHeads: number, dim: number, initialCapacity = 64) {
    this.layer = layer;
    this.kvHeads = kvHeads;
    this.dim = dim;
    const capacity = Math.max(1, initialCapacity);
    this.keyStore = Array.from({ length: kvHeads }, () => new Float32Array(capacity * dim));
    this.valueStore = Array.from({ length: kvHeads }, () => new Float32Array(capacity * dim));
    this.positionStore = Array.from({ length: kvHeads }, () => new Int32Array(capacity));
    this.lengths = new Int32Array(kvHeads);
    this.revisions = new Int32Array(kvHeads);
  }

  /**
   * Changes whenever kv head g's slots change other than by appending (retain): a copy that only saw appends since
   * it read this number (the backend's KV store the session decodes from) must then be rewritten.
   */
  revision(g: number): number {
    return this.revisions[this.head(g)] as number;
  }

  length(g: number): number {
    return this.lengths[this.head(g)] as number;
  }

  keys(g: number): Float32Array {
    return this.keyStore[this.head(g)]?.subarray(0, this.length(g) * this.dim) as Float32Array;
  }

  values(g: number): Float32Array {
    return this.valueStore[this.head(g)]?.subarray(0, this.length(g) * this.dim) as Float32Array;
  }

  positions(g: number): Int32Array {
    return this.positionStore[this.head(g)]?.subarray(0, this.length(g)) as Int32Array;
  }

  retain(g: number, slots: Int32Array): void {
    const head = this.head(g);
    const length = this.lengths[head] as number;
    if (!(slots instanceof Int32Array)) {
      throw new SparselandError(
        'E_PARAMS',
        `retain(): slots must be an Int32Array of strictly increasing slots, got ${describeValue(slots)}`,
      );
    }
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i] as number;
      if (s < 0 || s >= length || (i > 0 && s <= (slots[i - 1] as number))) {
        throw new SparselandError(
          'E_PARAMS',
          `retain(): slots of kv head ${g} in layer ${this.layer} must be strictly increasing in [0, ${length}), got ${s} at index ${i}`,
        );
      }
    }
    const keys = this.keyStore[head] as Float32Array;
    const values = this.valueStore[head] as Float32Array;
    const positions = this.positionStore[head] as Int32Array;
    const d = this.dim;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i] as number;
      if (s === i) continue;
      keys.copyWithin(i * d, s * d, (s + 1) * d);
      values.copyWithin(i * d, s * d, (s + 1) * d);
      positions[i] = positions[s] as number;
    }
    this.lengths[head] = slots.length;
    this.revisions[head] = (this.revisions[head] as number) + 1;
    // Give memory back when most of it is now unused: eviction should shrink the cache for real.
    if (slots.length * 4 < positions.length && positions.length > 64) this.resize(head, Math.max(64, slots.length * 2));
  }

  bytes(): number {
    let slots = 0;
    for (let g = 0; g < this.kvHeads; g++) slots += this.lengths[g] as number;
    return slots * this.dim * 2 * Float32Array.BYTES_PER_ELEMENT;
  }

  /** Tokens written to this layer so far (evicted ones included). */
  get tokensWritten(): number {
    return this.written;
  }

  /** True while every head holds every token written so far, in order: slot i is position i. */
  isPositional(): boolean {
    for (let g = 0; g < this.kvHeads; g++) if (this.lengths[g] !== this.written) return false;
    return true;
  }

  /** Slots held by the longest head. */
  maxLength(): number {
    let max = 0;
    for (let g = 0; g < this.kvHeads; g++) max = Math.max(max, this.lengths[g] as number);
    return max;
  }

  /** Appends the keys and values [kvHeads, count, dim] of tokens at positions start..start+count-1. */
  append(k: HeadTensor, v: HeadTensor, start: number): void {
    const count = k.length;
    const d = this.dim;
    for (let g = 0; g < this.kvHeads; g++) {
      const length = this.lengths[g] as number;
      if (length + count > (this.positionStore[g] as Int32Array).length) {
        this.resize(g, Math.max(length + count, 2 * (this.positionStore[g] as Int32Array).length));
      }
      const from = g * count * d;
      (this.keyStore[g] as Float32Array).set(k.data.subarray(from, from + count * d), length * d);
      (this.valueStore[g] as Float32Array).set(v.data.subarray(from, from + count * d), length * d);
      const positions = this.positionStore[g] as Int32Array;
      for (let t = 0; t < count; t++) positions[length + t] = start + t;
      this.lengths[g] = length + count;
    }
    this.written += count;
  }

  /**
   * Keys and values of every head as HeadTensors [kvHeads, width, dim], width = the longest head; shorter heads are
   * zero-padded at the end (callers mask the padding out).
   */
  gather(width = this.maxLength()): { k: HeadTensor; v: HeadTensor } {
    const d = this.dim;
    const k = new Float32Array(this.kvHeads * width * d);
    const v = new Float32Array(this.kvHeads * width * d);
    for (let g = 0; g < this.kvHeads; g++) {
      const n = this.lengths[g] as number;
      k.set((this.keyStore[g] as Float32Array).subarray(0, n * d), g * width * d);
      v.set((this.valueStore[g] as Float32Array).subarray(0, n * d), g * width * d);
    }
    return {
      k: { data: k, heads: this.kvHeads, length: width, dim: d },
      v: { data: v, heads: this.kvHeads, length: width, dim: d },
    };
  }

  private resize(g: number, capacity: number): void {
    const n = this.lengths[g] as number;
    const d = this.dim;
    const keys = new Float32Array(capacity * d);
    keys.set((this.keyStore[g] as Float32Array).subarray(0, n * d));
    const values = new Float32Array(capacity * d);
    values.set((this.valueStore[g] as Float32Array).subarray(0, n * d));
    const positions = new Int32Array(capacity);
    positions.set((this.positionStore[g] as Int32Array).subarray(0, n));
    this.keyStore[g] = keys;
    this.valueStore[g] = values;
    this.positionStore[g] = positions;
  }

  private head(g: number): number {
    if (!Number.isInteger(g) || g < 0 || g >= this.kvHeads) {
      throw new SparselandError('E_PARAMS', `kv head must be an integer in [0, ${this.kvHeads}), got ${describeValue(g)}`);
    }
    return g;
  }
}
