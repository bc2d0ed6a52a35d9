import type { HeadTensor } from '@sparseland/core';
import { defineKvPolicy } from '@sparseland/core';
import type { KvPolicy } from '@sparseland/core/kit';
import { intParam, type KvCacheLayer, lowerBound } from '@sparseland/core/kit';
import { z } from 'zod';
import { PAPERS } from '../papers.js';
import { summedAttention } from '../parts/attention-rows.js';
import { budgetFor, budgetParam, notePrompt } from '../parts/budget.js';
import { selectionOf } from '../parts/compose.js';
import { keepTop } from '../parts/top-k.js';

/** The token positions a selection layer chose for one decode step of one session, per kv head. */
interface Chosen {
  step: number;
  positions: Int32Array[];
}

/**
 * TidalDecode (position-persistent sparse attention): layers before `selectionLayer` read everything; the selection
 * layer attends densely and picks the top-k token positions per kv head by its attention (summed over the head's
 * query heads); every following layer reads only those positions, until the `correctionLayer` attends densely again
 * and picks fresh positions for the layers after it. The full cache stays. Defaults from DerrickYLJ/TidalDecode
 * `enable_tidal(top_k=256, sparse_layer_start=2, correction_layer=13)` (a 32-layer Llama-3-8B; on a shallower model
 * set the correction layer inside it or it never fires). The newest token is always read.
 */
export const tidalDecode = defineKvPolicy({
  name: 'tidal-decode',
  summary: 'Token selection at one dense layer reused by the following layers, with a dense re-selection layer.',
  paper: PAPERS.tidalDecode,
  params: z
    .object({
      budget: budgetParam(256, 'token positions read per kv head by sparse layers (top_k 256)'),
      selectionLayer: intParam(0, 2, 'the first layer that selects; earlier layers read everything (sparse_layer_start 2)'),
      correctionLayer: intParam(0, 13, 'the layer that selects again, densely (correction_layer 13)'),
    })
    .strict(),
  build: ({ budget, selectionLayer, correctionLayer }) => {
    const chosen = new WeakMap<object, Chosen>();
    const pick = (cache: KvCacheLayer, query: HeadTensor, position: number): Int32Array[] => {
      const k = budgetFor(cache, budget);
      return Array.from({ length: cache.kvHeads }, (_, g) => {
        const mass = summedAttention(cache, g, query, { start: 0, count: 1 }, () => position);
        const positions = cache.positions(g);
        const newest = Uint8Array.from(positions, (p) => (p === position ? 1 : 0));
        return Int32Array.from(keepTop(mass, k, newest), (s) => positions[s] as number);
      });
    };
    return Object.freeze<KvPolicy>({
      name: 'tidal-decode',
      afterPrefill(cache: KvCacheLayer) {
        notePrompt(cache);
      },
      select(cache: KvCacheLayer, query: HeadTensor, ctx) {
        if (ctx.layer < selectionLayer) return undefined;
        if (ctx.layer === selectionLayer || ctx.layer === correctionLayer) {
          chosen.set(ctx.session, { step: ctx.step, positions: pick(cache, query, ctx.position) });
          return undefined;
        }
        const state = chosen.get(ctx.session);
        if (!state || state.step !== ctx.step) return undefined;
        // Positions map to this layer's slots (slot order is position order; positions it does not hold are skipped).
        return selectionOf(
          cache,
          state.positions.map((wanted, g) => {
            const positions = cache.positions(g);
            const slots: number[] = [];
            for (const p of wanted) {
              const s = lowerBound(positions, p);
              if (positions[s] === p) slots.push(s);
            }
            const newest = positions.length - 1;
            if (newest >= 0 && slots[slots.length - 1] !== newest) slots.push(newest);
            return Int32Array.from(slots).sort();
          }),
        );
      },
      budget(cache: KvCacheLayer, ctx) {
        if (ctx.layer <= selectionLayer || ctx.layer === correctionLayer) return {};
        return { selected: (budgetFor(cache, budget) + 1) * cache.kvHeads };
      },
    });
  },
});
