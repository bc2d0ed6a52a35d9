import { defineKvPolicy } from '@sparseland/core';
import { numberParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { PAPERS } from '../papers.js';
import { budgetParam } from '../parts/budget.js';
import { composePolicy } from '../parts/compose.js';
import { accumulatedAttentionScorer } from '../scorers/accumulated-attention.js';

/**
 * H2O (Heavy-Hitter Oracle): per kv head, keep the tokens that have received the most attention so far (summed over
 * every query, prompt and decode) plus the most recent ones; once over budget, evict after every decode step.
 * Defaults: heavy_ratio 0.1 + recent_ratio 0.1 (FMInference/H2O scripts): a 20 % budget, half of it recent.
 */
export const h2o = defineKvPolicy({
  name: 'h2o',
  summary: 'Heavy hitters by accumulated attention plus a recent window, evicting one token per step once over budget.',
  paper: PAPERS.h2o,
  params: z
    .object({
      budget: budgetParam(0.2, 'slots kept (heavy_ratio 0.1 + recent_ratio 0.1 of the prompt)'),
      recentShare: numberParam(0, 1, 0.5, 'share of the budget kept for the most recent tokens (recent_ratio / (heavy + recent))'),
    })
    .strict(),
  build: ({ budget, recentShare }) =>
    composePolicy({
      name: 'h2o',
      scorer: accumulatedAttentionScorer,
      schedule: { prefill: true, decode: 'over-budget' },
      action: 'evict',
      budget,
      protect: (b) => ({ recent: Math.round(b * recentShare) }),
    }),
});
