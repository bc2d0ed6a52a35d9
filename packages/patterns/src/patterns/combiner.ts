import { definePattern } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { HUGE, interval } from '../engine/int-set.js';
import { termPattern } from '../engine/pattern-instance.js';
import { diagonalTerm } from '../engine/terms/diagonal-term.js';
import { PAPERS } from '../papers.js';

/**
 * The static part of Combiner (fixed factorisation): a query attends directly to its own span of `span` tokens and
 * to each earlier span as a summary. With the bias −ln(span) on keys of other spans, the softmax gives each earlier
 * span the mass of one "averaged" token (mean of its exp-scores), Combiner's log-mean-exp summary. The mask is causal
 * and dense; Combiner's learned pooling of keys is a kernel feature, not a static mask.
 */
export const combiner = definePattern({
  name: 'combiner',
  summary: 'Combiner-style summaries: causal attention with a −ln(span) bias on keys outside the query’s own span.',
  paper: PAPERS.combiner,
  // The mask is the whole causal triangle; span only shapes the scores.
  budget: 'none',
  params: z.object({ span: intParam(1, 128, 'tokens per span; keys of other spans share one summary weight') }).strict(),
  build: ({ span }) =>
    termPattern(
      'combiner',
      true,
      () => ({ maskMod: (_h, q, k) => k <= q, layout: { classes: [[diagonalTerm(interval(0, HUGE))]] } }),
      () => {
        const penalty = Math.log(span);
        return (score, _h, q, k) => (Math.floor(q / span) === Math.floor(k / span) ? score : score - penalty);
      },
    ),
});
