import { defineKvPolicy } from '@sparseland/core';
import type { KvPolicy } from '@sparseland/core/kit';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { PAPERS } from '../papers.js';
import { budgetFor, budgetParam, notePrompt } from '../parts/budget.js';
import { selectionOf } from '../parts/compose.js';
import { PageBounds } from '../parts/page-bounds.js';
import { perCache } from '../parts/per-cache.js';
import { keepTop } from '../parts/top-k.js';

/**
 * Quest: nothing is evicted; every decode step, each kv head's cache is split into pages of `pageSize` slots whose
 * channel-wise key min / max bound q·k from above (Σ_c max(q_c·min_c, q_c·max_c)); the pages with the highest bound
 * (the largest over the kv head's query heads) fill the token budget and attention reads only them. The page
 * holding the newest token is always read. Defaults from mit-han-lab/Quest `evaluation/quest_attention.py`: page 16,
 * at least 3 pages, the first 2 layers dense; token budget 1024 (the passkey evaluation).
 */
export const quest = defineKvPolicy({
  name: 'quest',
  summary: 'Query-aware page selection by key min/max bounds every step; the full cache stays, only selected pages are read.',
  paper: PAPERS.quest,
  params: z
    .object({
      budget: budgetParam(1024, 'tokens read per kv head each step (token_budget 1024)'),
      pageSize: intParam(1, 16, 'tokens per page (chunk_size 16)'),
      denseLayers: intParam(0, 2, 'first layers that read the whole cache (layer_id < 2)'),
    })
    .strict(),
  build: ({ budget, pageSize, denseLayers }) => {
    const bounds = perCache((cache) => Array.from({ length: cache.kvHeads }, () => new PageBounds(pageSize, cache.dim)));
    const pagesFor = (tokens: number): number => Math.max(3, Math.floor(tokens / pageSize));
    return Object.freeze<KvPolicy>({
      name: 'quest',
      afterPrefill(cache) {
        notePrompt(cache);
      },
      select(cache, query, ctx) {
        const heads = bounds(cache);
        for (let g = 0; g < cache.kvHeads; g++) (heads[g] as PageBounds).update(cache, g);
        if (ctx.layer < denseLayers) return undefined;
        const pages = pagesFor(budgetFor(cache, budget));
        const group = query.heads / cache.kvHeads;
        const kept = heads.map((b, g) => {
          const n = cache.length(g);
          if (b.pages <= pages) return Int32Array.from({ length: n }, (_, s) => s);
          const upper = b.upperBounds(
            query,
            Array.from({ length: group }, (_, i) => g * group + i),
          );
          const newest = new Uint8Array(b.pages);
          newest[b.pages - 1] = 1;
          const chosen = keepTop(upper, pages, newest);
          const slots = new Int32Array(chosen.length * pageSize);
          let count = 0;
          for (const p of chosen) for (let s = p * pageSize; s < Math.min(n, (p + 1) * pageSize); s++) slots[count++] = s;
          return slots.slice(0, count);
        });
        return selectionOf(cache, kept);
      },
      budget(cache, ctx) {
        return ctx.layer < denseLayers ? {} : { selected: pagesFor(budgetFor(cache, budget)) * pageSize * cache.kvHeads };
      },
      stateBytes(cache) {
        return bounds(cache).reduce((n, b) => n + b.bytes(), 0);
      },
    });
  },
});
