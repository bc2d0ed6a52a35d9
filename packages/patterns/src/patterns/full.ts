import { definePattern } from '@sparseland/core';
import { z } from 'zod';
import { HUGE, interval } from '../engine/int-set.js';
import { termPattern } from '../engine/pattern-instance.js';
import { diagonalTerm } from '../engine/terms/diagonal-term.js';
import { PAPERS } from '../papers.js';

/** Every query sees every key (bidirectional dense attention): every block is full. */
export const full = definePattern({
  name: 'full',
  summary: 'Dense bidirectional attention: every query attends to every key.',
  paper: PAPERS.transformer,
  budget: 'none',
  params: z.object({}).strict(),
  build: () =>
    termPattern('full', false, () => ({
      maskMod: () => true,
      layout: { classes: [[diagonalTerm(interval(-HUGE, HUGE))]] },
    })),
});
