import { definePattern } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { HUGE, interval } from '../engine/int-set.js';
import { termPattern } from '../engine/pattern-instance.js';
import { columnsTerm } from '../engine/terms/columns-term.js';
import { diagonalTerm } from '../engine/terms/diagonal-term.js';
import { rowsTerm } from '../engine/terms/rows-term.js';
import { PAPERS } from '../papers.js';

/**
 * A-shape plus dense last rows (SCBench's Tri-shape, MInference `tri_shape`): the last `last` query rows of the call
 * (positions qOffset + qLength − last …) attend causally to everything, so the final tokens see the whole prompt.
 */
export const triShape = definePattern({
  name: 'tri-shape',
  summary: 'A-shape (sinks + local window) plus fully dense last query rows.',
  paper: PAPERS.scbench,
  budget: { param: 'local', denser: 'higher' },
  params: z
    .object({
      sink: intParam(0, 128, 'first tokens every query sees (n_init)'),
      local: intParam(1, 3968, 'most recent keys each query sees, itself included (n_local)'),
      last: intParam(0, 100, 'last query rows of the call that attend to every earlier key (n_last)'),
    })
    .strict(),
  build: ({ sink, local, last }) =>
    termPattern('tri-shape', true, (shape) => {
      const firstDense = shape.qOffset + shape.qLength - last;
      return {
        maskMod: (_h, q, k) => k <= q && (k < sink || q - k < local || q >= firstDense),
        layout: {
          classes: [
            [
              diagonalTerm(interval(0, local - 1)),
              columnsTerm(interval(0, sink - 1), true),
              rowsTerm(last > 0 ? interval(firstDense, HUGE) : interval(1, 0), true),
            ],
          ],
        },
      };
    }),
});
