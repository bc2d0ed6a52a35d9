import { definePattern } from '@sparseland/core';
import { flagParam, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { HUGE, interval, PeriodicSet } from '../engine/int-set.js';
import { termPattern } from '../engine/pattern-instance.js';
import { blockGridTerm } from '../engine/terms/block-grid-term.js';
import { columnsTerm } from '../engine/terms/columns-term.js';
import { PAPERS } from '../papers.js';

/**
 * The Sparse Transformer's fixed pattern: A(1) = the query's own chunk of `stride` tokens (k ≤ q), A(2) = the last
 * `summary` tokens of every chunk ("summary" columns every later query reads). With `distinctHeads`, head h reads the
 * h-th `summary`-wide slice from the end of each chunk instead (the paper's per-head variant).
 */
export const fixed = definePattern({
  name: 'fixed',
  summary: 'Sparse Transformer fixed attention: own chunk of `stride` tokens plus the last `summary` tokens of every chunk.',
  paper: PAPERS.sparseTransformer,
  budget: { param: 'summary', denser: 'higher' },
  params: z
    .object({
      stride: intParam(1, 128, 'ℓ: chunk length (the paper uses 128 or 256)'),
      summary: intParam(1, 8, 'c: summary tokens at the end of each chunk (the paper uses 8, 16 or 32)'),
      distinctHeads: flagParam(false, 'head h reads the h-th c-wide slice from the end of each chunk'),
    })
    .strict()
    .refine((p) => p.summary <= p.stride, { message: 'summary must be <= stride', path: ['summary'] }),
  build: ({ stride, summary, distinctHeads }) =>
    termPattern('fixed', true, () => {
      const slices = distinctHeads ? Math.floor(stride / summary) : 1;
      const sliceOf = (h: number) => h % slices;
      const ownChunk = blockGridTerm(stride, (chunk) => interval(chunk, chunk), true);
      return {
        maskMod: (h, q, k) => {
          if (k > q) return false;
          if (Math.floor(k / stride) === Math.floor(q / stride)) return true;
          const inChunk = k % stride;
          const slice = sliceOf(h);
          return inChunk >= stride - summary * (slice + 1) && inChunk < stride - summary * slice;
        },
        layout: {
          // Summary columns first: their key ranges come in ascending order before the own chunk's.
          classes: Array.from({ length: slices }, (_, s) => [
            columnsTerm(new PeriodicSet(stride, summary, stride - summary * (s + 1), 0, HUGE), true),
            ownChunk,
          ]),
          classOf: sliceOf,
        },
      };
    }),
});
