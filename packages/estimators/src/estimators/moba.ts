import { defineEstimator, kvHeadOf, sliceHeads } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { addFlops, dotFlops } from '../common/flops.js';
import { QueryBlocks } from '../common/geometry.js';
import { buildSparseMask } from '../common/mask-builder.js';
import { topIndices } from '../common/select.js';
import { PAPERS } from '../papers.js';
import { withRettention } from '../rettention/with-rettention.js';

/**
 * MoBA's gate, per query token: keys are cut into chunks of `chunkSize` tokens, each chunk is represented by its
 * mean-pooled key, a token scores the chunks that end before its own chunk by q·k̄ (no scale), its own chunk is
 * always selected, and it attends to its `topK` chunks (own chunk included). A query block keeps the union of its
 * tokens' chunks. Defaults are MoonshotAI/MoBA's example config (chunk 4096, top-k 12); the paper mostly uses 512/3.
 * MoBA needs continued training; training-free it is a baseline.
 */
const method = defineEstimator({
  name: 'moba',
  summary: 'MoBA: per-token top-k gating over mean-pooled key chunks, own chunk always kept.',
  paper: PAPERS.moba,
  budget: { param: 'topK', denser: 'higher' },
  params: z
    .object({
      chunkSize: intParam(1, 4096, 'keys per chunk (MoBA example moba_chunk_size 4096; paper 512)'),
      topK: intParam(1, 12, 'chunks each token attends to, its own included (MoBA example moba_topk 12; paper 3)'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { heads, kvLength, qLength, qOffset, dim } = shape;
    const chunk = params.chunkSize;
    const chunks = Math.ceil(kvLength / chunk);
    const blocks = new QueryBlocks(shape, ctx.blockQ, causal);
    // Per query head: which chunks each query block needs (union over its tokens).
    const picked: Uint8Array[] = [];
    const scores = new Float64Array(chunks);
    for (let h = 0; h < heads; h++) {
      const g = kvHeadOf(h, heads, shape.kvHeads);
      const k = sliceHeads(input.k, g);
      const gate = await ctx.backend.pooledScores(
        { q: sliceHeads(input.q, h), k, qOffset },
        { blockQ: 1, blockK: chunk, qPool: 'mean', kPool: 'mean', scale: 1, causal: false },
      );
      ctx.cost.add(addFlops(kvLength * dim) + dotFlops(qLength * chunks, dim), 'estimate');
      const chosen = new Uint8Array(blocks.count * chunks);
      for (let i = 0; i < qLength; i++) {
        const own = Math.floor(Math.min(qOffset + i, kvLength - 1) / chunk);
        for (let c = 0; c < chunks; c++) {
          // Chunks that are not entirely in the past compete only in non-causal calls.
          const past = !causal || c < own;
          scores[c] = c === own ? Infinity : past ? (gate.data[i * chunks + c] as number) : -Infinity;
        }
        const base = Math.floor(i / ctx.blockQ) * chunks;
        for (const c of topIndices(scores, 0, chunks, params.topK)) chosen[base + c] = 1;
      }
      picked.push(chosen);
    }
    return buildSparseMask(shape, ctx, { causal }, (h, qb, row) => {
      const chosen = picked[h] as Uint8Array;
      for (let c = 0; c < chunks; c++) if (chosen[qb * chunks + c]) row.addKeys(c * chunk, (c + 1) * chunk);
    });
  },
});

export const moba = withRettention(method);
