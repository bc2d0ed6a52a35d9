import type { HeadTensor } from '@sparseland/core';
import type { KvCacheLayer } from '@sparseland/core/kit';

/**
 * Quest's page metadata for one kv head: per page of `pageSize` consecutive slots, the channel-wise min and max of
 * its keys, kept up to date incrementally as slots are appended (slots are never evicted under Quest).
 */
export class PageBounds {
  readonly pageSize: number;
  private readonly dim: number;
  private min = new Float32Array(0);
  private max = new Float32Array(0);
  /** Slots folded into the bounds so far. */
  private seen = 0;

  constructor(pageSize: number, dim: number) {
    this.pageSize = pageSize;
    this.dim = dim;
  }

  /** Folds the slots appended since the last call into the bounds. */
  update(cache: KvCacheLayer, g: number): void {
    const n = cache.length(g);
    if (n < this.seen) this.seen = 0; // the cache shrank: rebuild
    const d = this.dim;
    const pages = Math.ceil(n / this.pageSize);
    if (pages * d > this.min.length) {
      const grow = (old: Float32Array) => {
        const next = new Float32Array(Math.max(pages, 2 * (old.length / d)) * d);
        next.set(old);
        return next;
      };
      this.min = grow(this.min);
      this.max = grow(this.max);
    }
    if (this.seen === n) return;
    const keys = cache.keys(g);
    for (let s = this.seen; s < n; s++) {
      const at = Math.floor(s / this.pageSize) * d;
      const first = s % this.pageSize === 0;
      for (let c = 0; c < d; c++) {
        const k = keys[s * d + c] as number;
        if (first || k < (this.min[at + c] as number)) this.min[at + c] = k;
        if (first || k > (this.max[at + c] as number)) this.max[at + c] = k;
      }
    }
    this.seen = n;
  }

  get pages(): number {
    return Math.ceil(this.seen / this.pageSize);
  }

  /**
   * Each page's upper bound on q·k over its keys, Σ_c max(q_c·min_c, q_c·max_c), for the query rows of the query
   * heads `heads` of `query` (row 0), taking the largest over those heads.
   */
  upperBounds(query: HeadTensor, heads: readonly number[]): Float64Array {
    const d = this.dim;
    const pages = this.pages;
    const out = new Float64Array(pages).fill(-Infinity);
    for (const h of heads) {
      const q = query.data.subarray(h * query.length * d, (h * query.length + 1) * d);
      for (let p = 0; p < pages; p++) {
        let u = 0;
        const at = p * d;
        for (let c = 0; c < d; c++) {
          const x = q[c] as number;
          const a = x * (this.min[at + c] as number);
          const b = x * (this.max[at + c] as number);
          u += a > b ? a : b;
        }
        if (u > (out[p] as number)) out[p] = u;
      }
    }
    return out;
  }

  bytes(): number {
    return this.pages * this.dim * 2 * Float32Array.BYTES_PER_ELEMENT;
  }
}
