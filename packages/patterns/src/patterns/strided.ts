import { definePattern } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { HUGE, interval, PeriodicSet, UnionSet } from '../engine/int-set.js';
import { termPattern } from '../engine/pattern-instance.js';
import { diagonalTerm } from '../engine/terms/diagonal-term.js';
import { PAPERS } from '../papers.js';

/**
 * The Sparse Transformer's strided pattern: A(1) = the last `stride` keys, A(2) = keys whose distance is a multiple
 * of `stride` (k ≤ q). `merged` gives every head A(1) ∪ A(2); `alternating` gives even heads A(1) and odd heads A(2)
 * (the paper's interleaved heads). The paper picks stride ≈ √N.
 */
export const strided = definePattern({
  name: 'strided',
  summary: 'Sparse Transformer strided attention: a local band of `stride` keys plus every stride-th earlier key.',
  paper: PAPERS.sparseTransformer,
  // stride trades the band (ℓ keys) against the strided columns (about N/ℓ): density is smallest at ℓ ≈ √N, the
  // paper's choice, and grows either way, so it is no budget knob.
  budget: 'none',
  params: z
    .object({
      stride: intParam(1, 128, 'ℓ: local band width and stride (the paper uses ℓ ≈ √N)'),
      heads: z
        .enum(['merged', 'alternating'])
        .default('merged')
        .describe('merged: every head sees both parts; alternating: even heads local, odd heads strided'),
    })
    .strict(),
  build: ({ stride, heads }) =>
    termPattern('strided', true, () => {
      const local = diagonalTerm(interval(0, stride - 1));
      const strides = new PeriodicSet(stride, 1, 0, 0, HUGE);
      if (heads === 'merged') {
        return {
          maskMod: (_h, q, k) => k <= q && (q - k < stride || (q - k) % stride === 0),
          layout: { classes: [[diagonalTerm(new UnionSet([interval(0, stride - 1), strides]))]] },
        };
      }
      return {
        maskMod: (h, q, k) => k <= q && (h % 2 === 0 ? q - k < stride : (q - k) % stride === 0),
        layout: { classes: [[local], [diagonalTerm(strides)]], classOf: (h) => h % 2 },
      };
    }),
});
