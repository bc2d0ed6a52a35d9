// @sparseland/kv-cache: decode-time KV-cache policies as sparseland plugins, and the parts they are made of.

import type { KvPolicyPlugin } from '@sparseland/core';
import { adaKv } from './policies/adakv.js';
import { doubleSparsity } from './policies/double-sparsity.js';
import { duoAttention } from './policies/duo-attention.js';
import { expectedAttention } from './policies/expected-attention.js';
import { fullCache } from './policies/full-cache.js';
import { h2o } from './policies/h2o.js';
import { kivi } from './policies/kivi.js';
import { pyramidKv } from './policies/pyramidkv.js';
import { quest } from './policies/quest.js';
import { snapKv } from './policies/snapkv.js';
import { streamingLlm } from './policies/streaming-llm.js';
import { tidalDecode } from './policies/tidal-decode.js';
import { tova } from './policies/tova.js';
import { zipCache } from './policies/zipcache.js';

// The policies (one plugin per paper)
export {
  adaKv,
  doubleSparsity,
  duoAttention,
  expectedAttention,
  fullCache,
  h2o,
  kivi,
  pyramidKv,
  quest,
  snapKv,
  streamingLlm,
  tidalDecode,
  tova,
  zipCache,
};

/** Every built-in KV policy, for `createRegistry({ plugins: kvPolicies })`. */
export const kvPolicies: readonly KvPolicyPlugin[] = Object.freeze([
  fullCache,
  streamingLlm,
  h2o,
  tova,
  snapKv,
  pyramidKv,
  adaKv,
  expectedAttention,
  quest,
  tidalDecode,
  doubleSparsity,
  duoAttention,
  kivi,
  zipCache,
]);

// Parts a policy is composed of: scorer → selector → schedule → storage action
export type { ComposedPolicySpec, Schedule, Scorer, ScoreInput, Selector, StorageAction } from './parts/compose.js';
export { composePolicy, selectionOf, topKPerHead } from './parts/compose.js';
export { budgetFor, budgetParam, notePrompt, promptTokens } from './parts/budget.js';
export type { Protect } from './parts/protect.js';
export { protectedSlots } from './parts/protect.js';
export { keepTop } from './parts/top-k.js';
export { allocateAcrossHeads } from './parts/head-budgets.js';
export { pyramidBudget } from './parts/layer-budgets.js';
export { countForMass } from './parts/mass-threshold.js';
export { pool1d } from './parts/pooling.js';
export { forEachAttentionRow, summedAttention } from './parts/attention-rows.js';
export { perCache } from './parts/per-cache.js';
export { SlotValues } from './parts/slot-values.js';
export { QueryWindow } from './parts/query-window.js';
export { PageBounds } from './parts/page-bounds.js';
export { calibrateChannels, LabelCache } from './parts/label-cache.js';
export type { RopeSpec } from './parts/rope.js';
export { meanRotation, rotateBy, unrotate } from './parts/rope.js';

// Scorers
export { recencyScorer } from './scorers/recency.js';
export { accumulatedAttentionScorer } from './scorers/accumulated-attention.js';
export { lastQueryAttentionScorer } from './scorers/last-query-attention.js';
export type { WindowVoteOptions } from './scorers/window-vote.js';
export { windowVoteScorer } from './scorers/window-vote.js';
export type { ExpectedAttentionOptions } from './scorers/expected-attention.js';
export { expectedAttentionScorer } from './scorers/expected-attention.js';
export { normalizedAttention } from './scorers/normalized-attention.js';

// DuoAttention's head detector
export type { ClassifyHeadsOptions, HeadClassification, LayerTrace, NeedleTrace } from './detect/classify-heads.js';
export { classifyHeads, duoRecipe } from './detect/classify-heads.js';

export { PAPERS } from './papers.js';
