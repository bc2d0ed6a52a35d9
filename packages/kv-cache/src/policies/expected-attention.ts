import { defineKvPolicy } from '@sparseland/core';
import { flagParam, intParam, numberParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { PAPERS } from '../papers.js';
import { budgetParam } from '../parts/budget.js';
import { composePolicy } from '../parts/compose.js';
import { expectedAttentionScorer } from '../scorers/expected-attention.js';

/**
 * Expected Attention: a query-free score (no attention weights needed, so it fits flash-style kernels): the
 * attention that future queries, modelled as a Gaussian fitted to the recent pre-RoPE queries and rotated to the
 * next positions, would give each key, times the value norm. Defaults from kvpress's ExpectedAttentionPress:
 * n_future_positions 512, n_sink 4, covariance and value norm on, epsilon 0, compression ratio 0.5 (keep half);
 * statistics from the last 256 queries (DecodingPress's hidden_states_buffer_size). RoPE as llama2.c (base 10000).
 */
export const expectedAttention = defineKvPolicy({
  name: 'expected-attention',
  summary: 'Query-free: keeps the keys that Gaussian-modelled future queries would attend to most (times ‖v‖).',
  paper: PAPERS.expectedAttention,
  params: z
    .object({
      budget: budgetParam(0.5, 'slots kept (compression_ratio 0.5 keeps half)'),
      futurePositions: intParam(1, 512, 'future positions the query distribution is averaged over (n_future_positions)'),
      sink: intParam(0, 4, 'first tokens always kept and left out of the statistics (n_sink)'),
      recent: intParam(0, 0, 'newest tokens always kept (not in the paper, whose scores carry no recency: 0)'),
      covariance: flagParam(true, 'add the covariance term ½·kᵀΣk/d (use_covariance)'),
      valueNorm: flagParam(true, 'multiply by ‖v‖ + epsilon (use_vnorm)'),
      epsilon: numberParam(0, 1e6, 0, 'added to ‖v‖ (epsilon)'),
      statsWindow: intParam(2, 256, 'newest queries the mean and covariance come from'),
      ropeBase: numberParam(1, 1e9, 10000, "the model's RoPE base (llama2.c: 10000)"),
    })
    .strict(),
  build: ({ budget, futurePositions, sink, recent, covariance, valueNorm, epsilon, statsWindow, ropeBase }) =>
    composePolicy({
      name: 'expected-attention',
      scorer: expectedAttentionScorer({ futurePositions, sink, covariance, valueNorm, epsilon, statsWindow, rope: { base: ropeBase } }),
      schedule: { prefill: true, decode: 'over-budget' },
      action: 'evict',
      budget,
      protect: { sink, recent },
    }),
});
