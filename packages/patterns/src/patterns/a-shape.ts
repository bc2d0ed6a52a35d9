import { definePattern } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { interval } from '../engine/int-set.js';
import { termPattern } from '../engine/pattern-instance.js';
import { columnsTerm } from '../engine/terms/columns-term.js';
import { diagonalTerm } from '../engine/terms/diagonal-term.js';
import { PAPERS } from '../papers.js';

/**
 * StreamingLLM's attention sinks plus a local window, MInference's "A-shape": query q sees keys k < sink and the
 * `local` keys q − local + 1 … q. Defaults are MInference's (n_init 128, n_local 3968); StreamingLLM keeps 4 + 2000.
 */
export const aShape = definePattern({
  name: 'a-shape',
  summary: 'Attention sinks plus a causal local window (StreamingLLM / MInference A-shape).',
  paper: PAPERS.minference,
  budget: { param: 'local', denser: 'higher' },
  params: z
    .object({
      sink: intParam(0, 128, 'first tokens every query sees (MInference n_init 128; StreamingLLM start_size 4)'),
      local: intParam(1, 3968, 'most recent keys each query sees, itself included (MInference n_local 3968; StreamingLLM 2000)'),
    })
    .strict(),
  build: ({ sink, local }) =>
    termPattern('a-shape', true, () => ({
      maskMod: (_h, q, k) => k <= q && (k < sink || q - k < local),
      layout: { classes: [[diagonalTerm(interval(0, local - 1)), columnsTerm(interval(0, sink - 1), true)]] },
    })),
});
