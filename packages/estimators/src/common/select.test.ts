import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coverCount, kthLargest, topIndices, topIndicesInto } from './select.js';

/** Sorting oracle: larger first, ties to the lower index, -Infinity and NaN never chosen. */
function naiveTop(values: number[], k: number): number[] {
  return values
    .map((v, i) => ({ v, i }))
    .filter(({ v }) => v > -Infinity)
    .sort((a, b) => b.v - a.v || a.i - b.i)
    .slice(0, Math.max(0, k))
    .map(({ i }) => i)
    .sort((a, b) => a - b);
}

const values = fc.array(
  fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constant(-Infinity), fc.constant(Number.NaN), fc.double({ min: -3, max: 3, noNaN: true })),
  {
    maxLength: 300,
  },
);

describe('topIndices', () => {
  it('equals sorting (ties to the lower index, -Infinity and NaN skipped) for every k, both the sort and the heap path', () => {
    fc.assert(
      fc.property(values, fc.integer({ min: 0, max: 320 }), (v, k) => {
        expect(Array.from(topIndices(v, 0, v.length, k))).toEqual(naiveTop(v, k));
      }),
      { numRuns: 500 },
    );
  });

  it('works on a sub-range and returns absolute indices', () => {
    expect(Array.from(topIndices([9, 1, 5, 5, 7, 9], 1, 5, 2))).toEqual([2, 4]);
  });

  it('is nested: the top k are among the top k+1', () => {
    fc.assert(
      fc.property(values, fc.integer({ min: 0, max: 50 }), (v, k) => {
        const small = new Set(topIndices(v, 0, v.length, k));
        const large = new Set(topIndices(v, 0, v.length, k + 1));
        for (const i of small) expect(large.has(i)).toBe(true);
      }),
    );
  });
});

describe('topIndicesInto', () => {
  it('writes what sorting chooses into reused arrays (stale contents ignored) and returns the count', () => {
    const out = new Int32Array(320).fill(-7);
    const scratch = new Float64Array(300).fill(Number.NaN);
    fc.assert(
      fc.property(values, fc.integer({ min: 0, max: 320 }), (v, k) => {
        const n = topIndicesInto(Float64Array.from(v), 0, v.length, k, out, scratch);
        expect(Array.from(out.subarray(0, n))).toEqual(naiveTop(v, k));
      }),
      { numRuns: 500 },
    );
    expect(Array.from(out.subarray(0, topIndicesInto(Float64Array.of(9, 1, 5, 5, 7, 9), 1, 5, 2, out, scratch)))).toEqual([2, 4]);
  });

  it('equals sorting on any doubles: ±Infinity, huge spreads, values a rounding apart, long runs of one value', () => {
    const wide = fc.array(
      fc.oneof(
        fc.double({ noNaN: true }),
        fc.constant(Number.POSITIVE_INFINITY),
        fc.constant(Number.NaN),
        fc.constantFrom(1, 1 + 2 ** -52, 1 - 2 ** -53, 0, -0),
      ),
      { maxLength: 700 },
    );
    const out = new Int32Array(800);
    const scratch = new Float64Array(700);
    fc.assert(
      fc.property(wide, fc.integer({ min: 0, max: 720 }), (v, k) => {
        const n = topIndicesInto(Float64Array.from(v), 0, v.length, k, out, scratch);
        expect(Array.from(out.subarray(0, n))).toEqual(naiveTop(v, k));
      }),
      { numRuns: 500 },
    );
  });

  it('writes nothing past the k-th index of out', () => {
    const v = Float64Array.from({ length: 600 }, (_, i) => Math.sin(i * 7.3));
    const out = new Int32Array(257).fill(-7);
    expect(topIndicesInto(v, 0, 600, 256, out, new Float64Array(600))).toBe(256);
    expect(Array.from(out.subarray(0, 256))).toEqual(naiveTop(Array.from(v), 256));
    expect(out[256]).toBe(-7);
  });
});

describe('kthLargest (quickselect)', () => {
  it('equals the k-th value of a descending sort, skipping -Infinity and NaN', () => {
    fc.assert(
      fc.property(values, fc.integer({ min: 1, max: 300 }), (v, k) => {
        const valid = v.filter((x) => x > -Infinity).sort((a, b) => b - a);
        fc.pre(k <= valid.length);
        expect(kthLargest(v, 0, v.length, k)).toBe(valid[k - 1]);
      }),
      { numRuns: 500 },
    );
  });
  it('handles sorted, reversed and constant inputs of 100,000 values', () => {
    const up = Float64Array.from({ length: 100_000 }, (_, i) => i);
    expect(kthLargest(up, 0, up.length, 1)).toBe(99_999);
    expect(kthLargest(up.slice().reverse(), 0, up.length, 40_000)).toBe(60_000);
    expect(kthLargest(new Float64Array(100_000).fill(3), 0, 100_000, 777)).toBe(3);
  });
});

describe('coverCount', () => {
  it('is the fewest largest values reaching the fraction of the total', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 100 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (v, f) => {
          const sorted = [...v].sort((a, b) => b - a);
          const total = sorted.reduce((a, b) => a + b, 0);
          let acc = 0;
          let want = 0;
          while (total > 0 && want < sorted.length && acc < f * total * (1 - 1e-12)) acc += sorted[want++] as number;
          expect(coverCount(v, 0, v.length, f)).toBe(want);
        },
      ),
    );
  });

  it('covers a known distribution', () => {
    expect(coverCount([0.5, 0.1, 0.3, 0.1], 0, 4, 0.8)).toBe(2);
    expect(coverCount([0.5, 0.1, 0.3, 0.1], 0, 4, 0.81)).toBe(3);
    expect(coverCount([0, 0], 0, 2, 0.9)).toBe(0);
  });
});
