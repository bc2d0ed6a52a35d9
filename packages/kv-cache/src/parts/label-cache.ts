import type { HeadTensor } from '@sparseland/core';
import type { KvCacheLayer } from '@sparseland/core/kit';

/**
 * Double Sparsity's label cache for one kv head: the keys restricted to a few calibrated channels, stored as
 * `bits`-bit symmetric integer codes with one scale per token (int8 storage per code), appended as slots arrive.
 */
export class LabelCache {
  readonly channels: Int32Array;
  private readonly bits: number;
  private codes = new Int8Array(0);
  private scales = new Float32Array(0);
  private seen = 0;

  constructor(channels: Int32Array, bits: number) {
    this.channels = channels;
    this.bits = bits;
  }

  /** Encodes the slots appended since the last call. */
  update(cache: KvCacheLayer, g: number): void {
    const n = cache.length(g);
    const r = this.channels.length;
    if (n < this.seen) this.seen = 0;
    if (n * r > this.codes.length) {
      const codes = new Int8Array(Math.max(n, 2 * this.seen) * r);
      codes.set(this.codes.subarray(0, this.seen * r));
      const scales = new Float32Array(Math.max(n, 2 * this.seen));
      scales.set(this.scales.subarray(0, this.seen));
      this.codes = codes;
      this.scales = scales;
    }
    if (this.seen === n) return;
    const keys = cache.keys(g);
    const d = cache.dim;
    const qmax = 2 ** (this.bits - 1) - 1;
    for (let s = this.seen; s < n; s++) {
      let absmax = 0;
      for (const c of this.channels) absmax = Math.max(absmax, Math.abs(keys[s * d + c] as number));
      const scale = absmax / qmax;
      this.scales[s] = scale;
      for (let i = 0; i < r; i++) {
        const x = keys[s * d + (this.channels[i] as number)] as number;
        this.codes[s * r + i] = scale === 0 ? 0 : Math.max(-qmax, Math.min(qmax, Math.round(x / scale)));
      }
    }
    this.seen = n;
  }

  /** Approximate logits of slots [0, seen) for query heads `heads` (row 0 of `query`): the largest over the heads. */
  scores(query: HeadTensor, heads: readonly number[]): Float64Array {
    const r = this.channels.length;
    const d = query.dim;
    const out = new Float64Array(this.seen).fill(-Infinity);
    const scale = 1 / Math.sqrt(r);
    const q = new Float64Array(r);
    for (const h of heads) {
      for (let i = 0; i < r; i++) q[i] = query.data[h * query.length * d + (this.channels[i] as number)] as number;
      for (let s = 0; s < this.seen; s++) {
        let dot = 0;
        for (let i = 0; i < r; i++) dot += (q[i] as number) * (this.codes[s * r + i] as number);
        const x = dot * (this.scales[s] as number) * scale;
        if (x > (out[s] as number)) out[s] = x;
      }
    }
    return out;
  }

  bytes(): number {
    return this.seen * (this.channels.length + Float32Array.BYTES_PER_ELEMENT) + this.channels.byteLength;
  }
}

/**
 * Double Sparsity's channel calibration for kv head g: importance of channel c is the mean over tokens of
 * |q_c·k_c| (each query with its own token's key, summed over the head's query heads); the `count` most important
 * channels, ascending. `queries` are the prompt's [Hq, tokens, dim], whose last tokens are the cache's last slots.
 */
export function calibrateChannels(cache: KvCacheLayer, g: number, queries: HeadTensor, count: number): Int32Array {
  const d = cache.dim;
  const keys = cache.keys(g);
  const n = cache.length(g);
  const group = queries.heads / cache.kvHeads;
  const tokens = Math.min(n, queries.length);
  const importance = new Float64Array(d);
  for (let hi = 0; hi < group; hi++) {
    const h = g * group + hi;
    for (let t = 0; t < tokens; t++) {
      const qi = queries.length - tokens + t;
      const s = n - tokens + t;
      for (let c = 0; c < d; c++) {
        const prod = (queries.data[(h * queries.length + qi) * d + c] as number) * (keys[s * d + c] as number);
        importance[c] = (importance[c] as number) + Math.abs(prod);
      }
    }
  }
  const order = Int32Array.from({ length: d }, (_, c) => c).sort((a, b) => (importance[b] as number) - (importance[a] as number) || a - b);
  return order.slice(0, Math.max(1, Math.min(d, count))).sort();
}
