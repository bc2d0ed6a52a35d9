import { defineKvPolicy } from '@sparseland/core';
import { z } from 'zod';
import { PAPERS } from '../papers.js';
import { budgetParam } from '../parts/budget.js';
import { composePolicy } from '../parts/compose.js';
import { lastQueryAttentionScorer } from '../scorers/last-query-attention.js';

/**
 * TOVA (Token Omission Via Attention): when the cache exceeds its size, drop the token with the lowest attention
 * from the current query, averaged over the layer's heads (one ranking for every head); no sinks are forced (they
 * usually survive). Default `TOVACache(512)` (schwartz-lab-NLP/TOVA README); like kvpress it also applies once at
 * prefill, with the prompt's last query.
 */
export const tova = defineKvPolicy({
  name: 'tova',
  summary: "Evicts the token the current query attends to least (averaged over the layer's heads) whenever over budget.",
  paper: PAPERS.tova,
  params: z
    .object({
      budget: budgetParam(512, 'slots kept (TOVACache(512))'),
    })
    .strict(),
  build: ({ budget }) =>
    composePolicy({
      name: 'tova',
      scorer: lastQueryAttentionScorer,
      schedule: { prefill: true, decode: 'over-budget' },
      action: 'evict',
      budget,
    }),
});
