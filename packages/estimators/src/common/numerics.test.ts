import type { HeadTensor } from '@sparseland/core';
import { referenceScores } from '@sparseland/core/kit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jensenShannon, softmaxInto } from './divergence.js';
import { angularBucketsFromExtremes, grayRank, signBuckets, sortByBucket } from './lsh.js';

/** Angular buckets of rows of `half` projections, through a scores call against the identity (scores = projections). */
function angular(proj: Float32Array, rows: number, half: number): Int32Array {
  const q: HeadTensor = { data: proj, heads: 1, length: rows, dim: half };
  const k: HeadTensor = {
    data: Float32Array.from({ length: half * half }, (_, i) => (i % (half + 1) === 0 ? 1 : 0)),
    heads: 1,
    length: half,
    dim: half,
  };
  const { max, min } = referenceScores({ q, k }, { causal: false, reduce: { max: true, min: true } });
  if (!max || !min) throw new Error('no extremes');
  return angularBucketsFromExtremes(max, min, half);
}

import { normalQuantile } from './normal.js';

describe('normalQuantile', () => {
  it('inverts the standard normal CDF at known points', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 7);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306, 7);
    expect(normalQuantile(1 - 256 / 32768)).toBeCloseTo(2.417559, 5);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
  });

  it('is antisymmetric and increasing', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 0.5, noNaN: true }), fc.double({ min: 1e-6, max: 1e-3, noNaN: true }), (p, d) => {
        expect(normalQuantile(p) + normalQuantile(1 - p)).toBeCloseTo(0, 6);
        expect(normalQuantile(p + d)).toBeGreaterThan(normalQuantile(p));
      }),
    );
  });
});

describe('jensenShannon and softmaxInto', () => {
  it('is 0 for equal distributions, symmetric, and ln 2 for disjoint ones', () => {
    expect(jensenShannon([1, 2, 3], [2, 4, 6])).toBeCloseTo(0, 12);
    expect(jensenShannon([1, 0], [0, 1])).toBeCloseTo(Math.LN2, 12);
    // Subnormal masses: halving the mixture must not round it to 0 (fast-check found this one).
    expect(jensenShannon([5e-324, 0, 1], [0, 0, 1])).toBeLessThanOrEqual(Math.LN2);
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (p, q) => {
          const d = jensenShannon(p, q);
          expect(d).toBeCloseTo(jensenShannon(q, p), 12);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(Math.LN2 + 1e-12);
        },
      ),
    );
  });

  it('softmax sums to one and gives future (-Infinity) entries zero', () => {
    const out = new Float64Array(4);
    softmaxInto([1, 2, -Infinity, 3], 0, 4, out);
    expect(out[2]).toBe(0);
    expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(out[3]).toBeCloseTo(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3)), 12);
  });
});

describe('LSH helpers', () => {
  it('Gray ranks: codes of consecutive ranks differ in exactly one bit', () => {
    const codeOf = new Map<number, number>();
    for (let code = 0; code < 256; code++) codeOf.set(grayRank(code), code);
    for (let r = 0; r < 255; r++) {
      const x = (codeOf.get(r) as number) ^ (codeOf.get(r + 1) as number);
      expect(x & (x - 1)).toBe(0);
      expect(x).not.toBe(0);
    }
  });

  it('sign buckets read the projection signs; angular buckets pick the largest ±projection', () => {
    const proj = Float32Array.from([0.5, -1, 2, /* row 2 */ -0.1, -0.2, -3]);
    const signs = signBuckets(proj, 1, 2, 3);
    expect(signs[0]).toBe(grayRank(0b101));
    expect(signs[1]).toBe(grayRank(0));
    expect(Array.from(angular(proj, 2, 3))).toEqual([2, 5]);
    expect(Array.from(sortByBucket(Int32Array.from([3, 1, 3, 0]), 0, 0, 4))).toEqual([3, 1, 0, 2]);
  });

  it('angular buckets are the first maximum of x₀, −x₀, x₁, −x₁, … (ties and zeros included)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 60 }),
        (half, list) => {
          const rows = Math.floor(list.length / half);
          const proj = Float32Array.from(list.slice(0, rows * half));
          if (rows === 0) return;
          const got = angular(proj, rows, half);
          for (let r = 0; r < rows; r++) {
            const sequence = Array.from({ length: 2 * half }, (_, p) => (p % 2 ? -1 : 1) * (proj[r * half + (p >> 1)] as number));
            const first = sequence.indexOf(Math.max(...sequence));
            expect(got[r]).toBe(first % 2 ? (first >> 1) + half : first >> 1);
          }
        },
      ),
    );
  });

  it('sortByBucket is a stable sort by bucket (counting sort for few buckets, comparison sort for many)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 1 << 30 })), { maxLength: 60 }),
        fc.integer({ min: 0, max: 5 }),
        (list, cut) => {
          const buckets = Int32Array.from(list);
          const from = Math.min(cut, list.length);
          const want = Array.from({ length: list.length - from }, (_, i) => from + i).sort(
            (a, b) => (list[a] as number) - (list[b] as number) || a - b,
          );
          expect(Array.from(sortByBucket(buckets, 0, from, list.length))).toEqual(want);
        },
      ),
    );
  });
});
