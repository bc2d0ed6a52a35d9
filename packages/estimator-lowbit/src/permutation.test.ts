import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stridePermutation } from './permutation.js';

describe('stridePermutation', () => {
  it('is a permutation with its inverse, grouping equal residues; stride 1 is the identity', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 70 }), (n, stride) => {
        const { order, inverse } = stridePermutation(n, stride);
        expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        for (let i = 0; i < n; i++) expect(inverse[order[i] as number]).toBe(i);
        for (let i = 1; i < n; i++) {
          const a = order[i - 1] as number;
          const b = order[i] as number;
          expect(a % stride < b % stride || (a % stride === b % stride && b === a + stride)).toBe(true);
        }
      }),
    );
    expect(Array.from(stridePermutation(5, 1).order)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(stridePermutation(7, 3).order)).toEqual([0, 3, 6, 1, 4, 2, 5]);
    expect(() => stridePermutation(5, 0)).toThrow(/stride/);
  });
});
