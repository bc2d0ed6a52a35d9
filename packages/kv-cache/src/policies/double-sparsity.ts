import type { HeadTensor } from '@sparseland/core';
import { defineKvPolicy } from '@sparseland/core';
import type { KvPolicy } from '@sparseland/core/kit';
import { intParam, type KvCacheLayer } from '@sparseland/core/kit';
import { z } from 'zod';
import { PAPERS } from '../papers.js';
import { budgetFor, budgetParam, notePrompt } from '../parts/budget.js';
import { selectionOf } from '../parts/compose.js';
import { calibrateChannels, LabelCache } from '../parts/label-cache.js';
import { perCache } from '../parts/per-cache.js';
import { keepTop } from '../parts/top-k.js';

/**
 * Double Sparsity at decode: a few calibrated key channels per kv head (dim / groupFactor of them, ranked by
 * mean |q_c·k_c|) form a low-bit label cache; each step the query's same channels score every token against it, the
 * top `budget` tokens are selected and attention reads only them (nothing is evicted). Channels are calibrated on
 * the prompt itself (the paper calibrates offline on Pile samples). Defaults from andy-yang-1/DoubleSparse
 * `convert_kvcache_llama_heavy_recent`: heavy_const 256, group_factor 8, label_bits 4; first 2 layers dense.
 */
export const doubleSparsity = defineKvPolicy({
  name: 'double-sparsity',
  summary: 'Token selection every step from a low-bit label cache of a few calibrated key channels (channel + token sparsity).',
  paper: PAPERS.doubleSparsity,
  params: z
    .object({
      budget: budgetParam(256, 'tokens read per kv head each step (heavy_const 256)'),
      groupFactor: intParam(1, 8, 'keep dim / groupFactor channels in the label cache (group_factor 8)'),
      labelBits: z.number().int().min(2).max(8).default(4).describe('bits of the label codes (label_bits 4)'),
      denseLayers: intParam(0, 2, 'first layers that read the whole cache'),
    })
    .strict(),
  build: ({ budget, groupFactor, labelBits, denseLayers }) => {
    const labels = perCache(() => ({ heads: [] as LabelCache[] }));
    const calibrate = (cache: KvCacheLayer, queries: HeadTensor): void => {
      const state = labels(cache);
      const count = Math.max(1, Math.floor(cache.dim / groupFactor));
      state.heads = Array.from({ length: cache.kvHeads }, (_, g) => new LabelCache(calibrateChannels(cache, g, queries, count), labelBits));
    };
    return Object.freeze<KvPolicy>({
      name: 'double-sparsity',
      afterPrefill(cache: KvCacheLayer, queries: HeadTensor) {
        notePrompt(cache);
        calibrate(cache, queries);
      },
      select(cache: KvCacheLayer, query: HeadTensor, ctx) {
        const state = labels(cache);
        if (state.heads.length === 0) calibrate(cache, query);
        state.heads.forEach((label, g) => {
          label.update(cache, g);
        });
        if (ctx.layer < denseLayers) return undefined;
        const k = budgetFor(cache, budget);
        const group = query.heads / cache.kvHeads;
        return selectionOf(
          cache,
          state.heads.map((label, g) => {
            const scores = label.scores(
              query,
              Array.from({ length: group }, (_, i) => g * group + i),
            );
            const newest = new Uint8Array(scores.length);
            newest[scores.length - 1] = 1;
            return keepTop(scores, k, newest);
          }),
        );
      },
      budget(cache: KvCacheLayer, ctx) {
        return ctx.layer < denseLayers ? {} : { selected: budgetFor(cache, budget) * cache.kvHeads };
      },
      stateBytes(cache: KvCacheLayer) {
        return labels(cache).heads.reduce((n, l) => n + l.bytes(), 0);
      },
    });
  },
});
