import { defineKvPolicy } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { PAPERS } from '../papers.js';
import { budgetParam } from '../parts/budget.js';
import { composePolicy } from '../parts/compose.js';
import { windowVoteScorer } from '../scorers/window-vote.js';

/** Pooling kinds SnapKV smooths votes with. */
export const poolingParam = z.enum(['avg', 'max']);

/**
 * SnapKV: the last `window` prompt queries (the observation window) vote with their attention; votes are smoothed
 * by 1-D pooling so a hit's neighbours survive; keep the top votes plus the window. Defaults from
 * FasterDecoding/SnapKV `init_snapkv`: window 32, max_capacity_prompt 2048, kernel 5, avgpool. The paper compresses
 * only at prefill; here the window then slides over decode queries and the same vote evicts whenever the cache is
 * over budget, so the budget holds at every step (kvpress's DecodingPress does the same).
 */
export const snapKv = defineKvPolicy({
  name: 'snapkv',
  summary: 'Observation-window vote with pooling: the last queries choose which prompt tokens to keep.',
  paper: PAPERS.snapkv,
  params: z
    .object({
      budget: budgetParam(2048, 'slots kept, window included (max_capacity_prompt 2048)'),
      window: intParam(1, 32, 'observation window: the last queries that vote (window_size 32)'),
      kernel: intParam(1, 5, 'pooling kernel, odd (kernel_size 5)'),
      pooling: poolingParam.default('avg').describe('avgpool (default) or maxpool'),
    })
    .strict(),
  build: ({ budget, window, kernel, pooling }) =>
    composePolicy({
      name: 'snapkv',
      scorer: windowVoteScorer({ window, kernel, pooling }),
      schedule: { prefill: true, decode: 'over-budget' },
      action: 'evict',
      budget,
      protect: (b) => ({ recent: Math.min(window, b) }),
    }),
});
