import { defineKvPolicy } from '@sparseland/core';
import { intParam, numberParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { PAPERS } from '../papers.js';
import { budgetParam } from '../parts/budget.js';
import { composePolicy, type Selector } from '../parts/compose.js';
import { allocateAcrossHeads } from '../parts/head-budgets.js';
import { windowVoteScorer } from '../scorers/window-vote.js';
import { poolingParam } from './snapkv.js';

/**
 * Ada-KV: the layer's budget (B per kv head on average) is shared across its kv heads by one top-k over all heads'
 * SnapKV votes, so focused heads give slots to diffuse ones; each head first keeps `alpha`·B of its best (kvpress's
 * `alpha_safeguard = 0.20`). The cache really becomes ragged: each head frees what it dropped. Window 32, kernel 7,
 * maxpool as SnapKV's LongBench settings, which Ada-KV builds on.
 */
export const adaKv = defineKvPolicy({
  name: 'adakv',
  summary: "One budget per layer shared across kv heads by a joint top-k over SnapKV's votes (ragged per-head caches).",
  paper: PAPERS.adakv,
  params: z
    .object({
      budget: budgetParam(1024, 'mean slots kept per kv head'),
      alpha: numberParam(0, 1, 0.2, "each head's safeguard share of the mean budget (alpha_safeguard 0.20)"),
      window: intParam(1, 32, 'observation window'),
      kernel: intParam(1, 7, 'pooling kernel, odd'),
      pooling: poolingParam.default('max').describe('maxpool (default) or avgpool'),
    })
    .strict(),
  build: ({ budget, alpha, window, kernel, pooling }) => {
    const selector: Selector = (scores, b, protect) => allocateAcrossHeads(scores, b, alpha, protect);
    return composePolicy({
      name: 'adakv',
      scorer: windowVoteScorer({ window, kernel, pooling }),
      selector,
      schedule: { prefill: true, decode: 'over-budget' },
      action: 'evict',
      budget,
      protect: (b) => ({ recent: Math.min(window, b) }),
    });
  },
});
