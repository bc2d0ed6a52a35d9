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
    const min = this.min;
    const max = this.max;
    // Sign trick (as Quest's kernel): q_c·max_c when q_c >= 0, else q_c·min_c, i.e. up_c·max_c + down_c·min_c with
    // up = max(q, 0) and down = min(q, 0). Up to four heads per pass, so each page's bounds are read once for them.
    for (let h0 = 0; h0 < heads.length; h0 += 4) {
      const count = Math.min(4, heads.length - h0);
      const up = new Float64Array(4 * d);
      const down = new Float64Array(4 * d);
      for (let j = 0; j < count; j++) {
        const at0 = (heads[h0 + j] as number) * query.length * d;
        for (let c = 0; c < d; c++) {
          const x = query.data[at0 + c] as number;
          up[c * 4 + j] = Math.max(x, 0);
          down[c * 4 + j] = Math.min(x, 0);
        }
      }
      for (let p = 0, at = 0; p < pages; p++, at += d) {
        let u0 = 0;
        let u1 = 0;
        let u2 = 0;
        let u3 = 0;
        for (let c = 0, w = 0; c < d; c++, w += 4) {
          const hi = max[at + c] as number;
          const lo = min[at + c] as number;
          u0 += (up[w] as number) * hi + (down[w] as number) * lo;
          u1 += (up[w + 1] as number) * hi + (down[w + 1] as number) * lo;
          u2 += (up[w + 2] as number) * hi + (down[w + 2] as number) * lo;
          u3 += (up[w + 3] as number) * hi + (down[w + 3] as number) * lo;
        }
        let u = u0;
        if (count > 1 && u1 > u) u = u1;
        if (count > 2 && u2 > u) u = u2;
        if (count > 3 && u3 > u) u = u3;
        if (u > (out[p] as number)) out[p] = u;
      }
    }
    return out;
  }

  bytes(): number {
    return this.pages * this.dim * 2 * Float32Array.BYTES_PER_ELEMENT;
  }
}
