import { definePattern } from '@sparseland/core';
import { flagParam, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { HUGE, interval, PeriodicSet } from '../engine/int-set.js';
import { termPattern } from '../engine/pattern-instance.js';
import type { Term } from '../engine/term.js';
import { columnsTerm } from '../engine/terms/columns-term.js';
import { diagonalTerm } from '../engine/terms/diagonal-term.js';
import { rowsTerm } from '../engine/terms/rows-term.js';
import { PAPERS } from '../papers.js';

/**
 * MMInference's Grid pattern for frame-structured (video) tokens: vertical lines (keys k ≡ phase mod stride, seen by
 * every query), horizontal lines (queries q ≡ phase mod stride, which see every key) and a local band of `window`
 * keys. MMInference searches stride and phase per head offline and permutes rows and columns inside its kernel so
 * the lines become dense blocks; its code is not public, so this static form is our reading of the paper (README).
 * Without the permutation, horizontal lines closer than a block make every block they cross partial.
 */
export const grid = definePattern({
  name: 'grid',
  summary: 'MMInference Grid: periodic vertical and horizontal lines (stride, phase) plus a local band, for video tokens.',
  paper: PAPERS.mminference,
  budget: { param: 'window', denser: 'higher' },
  params: z
    .object({
      stride: intParam(1, 256, 'spacing of the grid lines in tokens (searched per head; often the tokens per frame)'),
      phase: intParam(0, 0, 'position of the first line'),
      window: intParam(0, 64, 'local band: keys within window − 1 of the query (0 = none)'),
      vertical: flagParam(true, 'keep the vertical lines (key columns)'),
      horizontal: flagParam(true, 'keep the horizontal lines (query rows that see everything)'),
      causal: flagParam(true, 'keep only keys k <= q (VLM prefill)'),
    })
    .strict(),
  build: (p) =>
    termPattern('grid', p.causal, () => {
      const onLine = (x: number) => (((x - p.phase) % p.stride) + p.stride) % p.stride === 0;
      const lines = new PeriodicSet(p.stride, 1, p.phase, 0, HUGE);
      const terms: Term[] = [];
      if (p.window > 0) terms.push(diagonalTerm(interval(p.causal ? 0 : -(p.window - 1), p.window - 1)));
      if (p.vertical) terms.push(columnsTerm(lines, p.causal));
      if (p.horizontal) terms.push(rowsTerm(lines, p.causal));
      return {
        maskMod: (_h, q, k) => {
          if (p.causal && k > q) return false;
          return Math.abs(q - k) < p.window || (p.vertical && onLine(k)) || (p.horizontal && onLine(q));
        },
        layout: { classes: [terms] },
      };
    }),
});
