import { describe, expect, it } from 'vitest';
import { alibiSlopes } from './alibi.js';
import { t5Bucket } from './relative-bias.js';

describe('ALiBi slopes', () => {
  it('are 2^-1 … 2^-8 for 8 heads (the paper)', () => {
    expect(alibiSlopes(8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => 2 ** -i));
  });

  it('interleave the slopes of the next power of two for other head counts', () => {
    expect(alibiSlopes(12)).toEqual([...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => 2 ** -i), 2 ** -0.5, 2 ** -1.5, 2 ** -2.5, 2 ** -3.5]);
    expect(alibiSlopes(1)).toEqual([2 ** -8]);
  });
});

describe('T5 relative-position buckets', () => {
  it('are exact for small distances and logarithmic up to maxDistance', () => {
    const b = (q: number, k: number) => t5Bucket(q, k, 32, 128, true);
    expect([b(0, 0), b(1, 0), b(7, 0), b(8, 0), b(16, 0), b(127, 0), b(1000, 0)]).toEqual([0, 1, 7, 8, 10, 15, 15]);
    // Keys after the query use the upper half.
    expect([b(0, 1), b(0, 7), b(0, 500)]).toEqual([17, 23, 31]);
    // Unidirectional: keys after the query share bucket 0.
    expect([t5Bucket(0, 5, 32, 128, false), t5Bucket(20, 0, 32, 128, false)]).toEqual([0, 17]);
  });
});
