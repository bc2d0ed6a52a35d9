import type { HeadTensor } from '@sparseland/core';
import { createRng } from '@sparseland/core/kit';

/** `count` random Gaussian directions of length `dim`, seeded: a HeadTensor of one head (the LSH projections). */
export function randomDirections(count: number, dim: number, seed: number): HeadTensor {
  const rng = createRng(seed);
  const data = new Float32Array(count * dim);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { data, heads: 1, length: count, dim };
}

/** Mixes integers into a 32-bit seed (so each head, layer and quadrant gets its own random stream). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h ^= p >>> 0;
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= h >>> 13;
  }
  return h >>> 0;
}

/** The rank of a Gray-code word: adjacent ranks differ in one bit, so nearby hash codes sort next to each other. */
export function grayRank(code: number): number {
  let b = code;
  for (let shift = 1; shift < 32; shift <<= 1) b ^= b >>> shift;
  return b >>> 0;
}

/**
 * HyperAttention's sortLSH bucket of every row: the sign bits of its `bits` projections (rows of `projections`,
 * `[heads][length][bits]`), read as a Gray code and mapped to its rank.
 */
export function signBuckets(projections: Float32Array, heads: number, length: number, bits: number): Int32Array {
  const out = new Int32Array(heads * length);
  for (let r = 0; r < heads * length; r++) {
    let code = 0;
    for (let b = 0; b < bits; b++) if ((projections[r * bits + b] as number) > 0) code |= 1 << b;
    out[r] = grayRank(code);
  }
  return out;
}

/**
 * Angular LSH of Reformer, h(x) = argmax([xR; −xR]), from each row's first maximum and first minimum of its `half`
 * projections (a scores call's `max` and `min`): the first maximum of the sequence x₀, −x₀, x₁, −x₁, … is x_argMax
 * (bucket argMax) when max > −min or, on a tie, when argMax ≤ argMin (x_b sits at position 2b, −x_b at 2b + 1);
 * else −x_argMin (bucket argMin + half). A row without a maximum (all NaN) gets bucket 0.
 */
export function angularBucketsFromExtremes(
  max: { readonly values: Float32Array; readonly indices: Int32Array },
  min: { readonly values: Float32Array; readonly indices: Int32Array },
  half: number,
): Int32Array {
  const out = new Int32Array(max.values.length);
  for (let r = 0; r < out.length; r++) {
    const hi = max.values[r] as number;
    const lo = min.values[r] as number;
    const argMax = Math.max(0, max.indices[r] as number);
    const argMin = Math.max(0, min.indices[r] as number);
    out[r] = hi > -lo || (hi === -lo && argMax <= argMin) ? argMax : argMin + half;
  }
  return out;
}

/** Indices `from`..`to`-1 sorted by (bucket, index): a stable sort by bucket. */
export function sortByBucket(buckets: Int32Array, offset: number, from: number, to: number): Int32Array {
  // Counting sort (stable, so indices stay in order within a bucket) while the buckets are few; else a comparison sort.
  let max = 0;
  let min = 0;
  for (let i = from; i < to; i++) {
    max = Math.max(max, buckets[offset + i] as number);
    min = Math.min(min, buckets[offset + i] as number);
  }
  if (min < 0 || max > 4 * (to - from) + 1024) {
    const idx = new Int32Array(to - from);
    for (let i = 0; i < idx.length; i++) idx[i] = from + i;
    return idx.sort((a, b) => (buckets[offset + a] as number) - (buckets[offset + b] as number) || a - b);
  }
  const start = new Int32Array(max + 2);
  for (let i = from; i < to; i++) start[(buckets[offset + i] as number) + 1] = (start[(buckets[offset + i] as number) + 1] as number) + 1;
  for (let b = 0; b <= max; b++) start[b + 1] = (start[b + 1] as number) + (start[b] as number);
  const idx = new Int32Array(to - from);
  for (let i = from; i < to; i++) {
    const b = buckets[offset + i] as number;
    idx[start[b] as number] = i;
    start[b] = (start[b] as number) + 1;
  }
  return idx;
}
