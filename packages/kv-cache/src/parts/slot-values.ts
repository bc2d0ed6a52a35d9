import type { KvCacheLayer } from '@sparseland/core/kit';

/**
 * One float64 value per cached slot of each kv head (accumulated attention, scores), kept parallel to the cache:
 * `sync` zero-fills slots appended since, `retain` compacts like the cache does.
 */
export class SlotValues {
  private readonly rows: Float64Array[];
  private readonly lengths: Int32Array;

  constructor(kvHeads: number) {
    this.rows = Array.from({ length: kvHeads }, () => new Float64Array(64));
    this.lengths = new Int32Array(kvHeads);
  }

  /** The values of head g, one per slot of the cache (new slots start at 0). */
  of(cache: KvCacheLayer, g: number): Float64Array {
    const n = cache.length(g);
    let row = this.rows[g] as Float64Array;
    if (n > row.length) {
      const grown = new Float64Array(Math.max(n, 2 * row.length));
      grown.set(row.subarray(0, this.lengths[g]));
      this.rows[g] = grown;
      row = grown;
    }
    if (n > (this.lengths[g] as number)) row.fill(0, this.lengths[g], n);
    this.lengths[g] = n;
    return row.subarray(0, n);
  }

  /** Keeps the values of the given slots (strictly increasing), in order, as the cache's retain does. */
  retain(g: number, slots: Int32Array): void {
    const row = this.rows[g] as Float64Array;
    for (let i = 0; i < slots.length; i++) row[i] = row[slots[i] as number] as number;
    this.lengths[g] = slots.length;
  }

  /** Bytes held (for a policy's stateBytes). */
  bytes(): number {
    let n = 0;
    for (const l of this.lengths) n += l;
    return n * Float64Array.BYTES_PER_ELEMENT;
  }
}
