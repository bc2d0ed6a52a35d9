import type { HeadTensor } from '@sparseland/core';

/**
 * The last `capacity` queries seen (after RoPE) with their positions: SnapKV's observation window at prefill, and
 * the same window sliding over decode steps. Stored as one HeadTensor [Hq, size, dim] in order of position.
 */
export class QueryWindow {
  readonly capacity: number;
  private heads = 0;
  private dim = 0;
  private data = new Float32Array(0);
  private positions: number[] = [];

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Adds the last rows of `queries` (row i at position `position(i)`), keeping only the newest `capacity`. */
  push(queries: HeadTensor, position: (i: number) => number): void {
    const take = Math.min(this.capacity, queries.length);
    const keep = Math.min(this.positions.length, this.capacity - take);
    const size = keep + take;
    const { heads, dim } = queries;
    const data = new Float32Array(heads * size * dim);
    for (let h = 0; h < heads; h++) {
      if (keep > 0 && this.heads === heads) {
        const old = this.positions.length;
        data.set(this.data.subarray((h * old + old - keep) * dim, (h * old + old) * dim), h * size * dim);
      }
      const from = queries.length - take;
      data.set(
        queries.data.subarray((h * queries.length + from) * dim, (h * queries.length + queries.length) * dim),
        (h * size + keep) * dim,
      );
    }
    const positions = this.positions.slice(this.positions.length - keep);
    for (let i = queries.length - take; i < queries.length; i++) positions.push(position(i));
    this.heads = heads;
    this.dim = dim;
    this.data = data;
    this.positions = positions;
  }

  get size(): number {
    return this.positions.length;
  }

  /** The window as a HeadTensor [Hq, size, dim]. */
  tensor(): HeadTensor {
    return { data: this.data, heads: this.heads, length: this.positions.length, dim: this.dim };
  }

  position(i: number): number {
    return this.positions[i] as number;
  }

  bytes(): number {
    return this.data.byteLength + this.positions.length * 8;
  }
}
