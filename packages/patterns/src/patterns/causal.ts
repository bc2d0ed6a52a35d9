import { definePattern } from '@sparseland/core';
import { z } from 'zod';
import { HUGE, interval } from '../engine/int-set.js';
import { termPattern } from '../engine/pattern-instance.js';
import { diagonalTerm } from '../engine/terms/diagonal-term.js';
import { PAPERS } from '../papers.js';

/** Autoregressive attention: query q sees keys k <= q. Blocks under the diagonal are full, the diagonal partial. */
export const causal = definePattern({
  name: 'causal',
  summary: 'Dense causal attention: every query attends to itself and every earlier key.',
  paper: PAPERS.transformer,
  budget: 'none',
  params: z.object({}).strict(),
  build: () =>
    termPattern('causal', true, () => ({
      maskMod: (_h, q, k) => k <= q,
      layout: { classes: [[diagonalTerm(interval(0, HUGE))]] },
    })),
});
