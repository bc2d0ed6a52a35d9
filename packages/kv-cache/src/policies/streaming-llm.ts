import { defineKvPolicy } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { PAPERS } from '../papers.js';
import { budgetParam, expectProtectedFit } from '../parts/budget.js';
import { composePolicy } from '../parts/compose.js';
import { recencyScorer } from '../scorers/recency.js';

/**
 * StreamingLLM: keep the first `sink` tokens (attention sinks) and the most recent ones, drop the middle as soon as
 * the cache exceeds its budget. Defaults: `StartRecentKVCache(start_size=4, recent_size=512)`
 * (mit-han-lab/streaming-llm), so budget 4 + 512. Keys keep their original RoPE positions (the reference re-rotates
 * them into 0…cache_len−1 instead; exact relative positions need no re-rotation).
 */
export const streamingLlm = defineKvPolicy({
  name: 'streaming-llm',
  summary: 'Attention sinks + a recent window: the first tokens and the newest ones stay, the middle is evicted.',
  paper: PAPERS.streamingLlm,
  params: z
    .object({
      budget: budgetParam(516, 'slots kept: sinks + recent window (start_size 4 + recent_size 512)'),
      sink: intParam(0, 4, 'first tokens always kept (start_size = 4)'),
    })
    .strict(),
  build: ({ budget, sink }) => {
    expectProtectedFit('streaming-llm', budget, sink, 1);
    return composePolicy({
      name: 'streaming-llm',
      scorer: recencyScorer,
      schedule: { prefill: true, decode: 'over-budget' },
      action: 'evict',
      budget,
      protect: { sink },
    });
  },
});
