import { createRng } from '@sparseland/core/kit';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { matmulRows } from './matmul.js';

it('equals the float64 definition for every blocking remainder (rows mod 4, odd outputs)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 11 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 7 }),
      fc.integer(),
      (rows, inDim, outDim, seed) => {
        const rng = createRng(seed);
        const x = Float32Array.from({ length: rows * inDim }, () => rng.normal());
        const w = Float32Array.from({ length: outDim * inDim }, () => rng.normal());
        const out = new Float32Array(rows * outDim).fill(Number.NaN);
        matmulRows(out, x, w, rows, inDim, outDim);
        for (let t = 0; t < rows; t++) {
          for (let o = 0; o < outDim; o++) {
            let s = 0;
            for (let j = 0; j < inDim; j++) s += x[t * inDim + j]! * w[o * inDim + j]!;
            expect(out[t * outDim + o]).toBe(Math.fround(s));
          }
        }
      },
    ),
    { numRuns: 150, seed: 3 },
  );
});
