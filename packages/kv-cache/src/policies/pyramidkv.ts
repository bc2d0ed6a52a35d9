import { defineKvPolicy } from '@sparseland/core';
import { intParam, numberParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { PAPERS } from '../papers.js';
import { budgetParam } from '../parts/budget.js';
import { composePolicy } from '../parts/compose.js';
import { pyramidBudget } from '../parts/layer-budgets.js';
import { windowVoteScorer } from '../scorers/window-vote.js';
import { poolingParam } from './snapkv.js';

/**
 * PyramidKV: SnapKV's vote with per-layer budgets decreasing linearly from the bottom layer (2B − B/β) to the top
 * (B/β), B the average (window excluded), so the model's mean stays B. Defaults from Zefan-Cai/KVCache-Factory's
 * LongBench runs: β 20, window 8, kernel 7, maxpool, budget 2048.
 */
export const pyramidKv = defineKvPolicy({
  name: 'pyramidkv',
  summary: 'SnapKV votes with layer budgets that shrink linearly from the bottom layer to the top (mean kept).',
  paper: PAPERS.pyramidkv,
  params: z
    .object({
      budget: budgetParam(2048, 'mean slots kept per layer, window included'),
      beta: numberParam(1, 1000, 20, 'top layer gets budget/β, the bottom 2·budget − budget/β (β = 20)'),
      window: intParam(1, 8, 'observation window (window_sizes 8)'),
      kernel: intParam(1, 7, 'pooling kernel, odd (kernel_sizes 7)'),
      pooling: poolingParam.default('max').describe('maxpool (default) or avgpool'),
    })
    .strict(),
  build: ({ budget, beta, window, kernel, pooling }) =>
    composePolicy({
      name: 'pyramidkv',
      scorer: windowVoteScorer({ window, kernel, pooling }),
      schedule: { prefill: true, decode: 'over-budget' },
      action: 'evict',
      budget,
      layerBudget: (b, ctx) => (b > window ? pyramidBudget(b - window, ctx.layer, ctx.layers, beta) + window : b),
      protect: (b) => ({ recent: Math.min(window, b) }),
    }),
});
