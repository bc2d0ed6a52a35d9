import { flagParam, intParam, numberParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { pooledBlockScores } from '../common/backend-ops.js';
import { defineEstimator } from '../common/define.js';
import { softmaxInto } from '../common/divergence.js';
import { QueryBlocks } from '../common/geometry.js';
import { buildSparseMask } from '../common/mask-builder.js';
import { coverCount, topIndices } from '../common/select.js';
import { PAPERS } from '../papers.js';

/**
 * Block top-k gating in the style of MoBA and VMoBA: each query block (mean-pooled queries) scores every visible key
 * block by its mean-pooled key, the query's own (diagonal) blocks are always kept (every key block holding a row's own key), and either the `topK` best blocks
 * are kept (MoBA, whose example config keeps 12 chunks) or, in `cumulative` mode, the fewest blocks whose softmax
 * mass reaches `threshold` (VMoBA's threshold selection). `global` ranks (query block, key block) pairs across the
 * whole head instead of per row (VMoBA's global selection): top-k keeps topK × query blocks pairs, cumulative keeps
 * threshold × query blocks of mass. Blocks are the recipe's (MoBA's chunk is one key block here; see `moba` for
 * per-token gating over larger chunks).
 */
export const blockTopk = defineEstimator({
  name: 'block-topk',
  summary: 'MoBA/VMoBA-style block gating: mean-pooled keys per block, top-k or cumulative-threshold blocks per query block.',
  paper: PAPERS.moba,
  params: z
    .object({
      topK: intParam(1, 12, 'key blocks kept per query block, the own block included (MoBA example moba_topk 12)'),
      mode: z.enum(['topk', 'cumulative']).default('topk').describe("'topk' (MoBA) or 'cumulative' (VMoBA threshold selection)"),
      threshold: numberParam(0, 1, 0.9, "softmax mass the kept blocks reach in 'cumulative' mode"),
      global: flagParam(false, 'rank (query block, key block) pairs across the head (VMoBA global selection)'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { blockQ, blockK } = ctx;
    const qBlocks = new QueryBlocks(shape, blockQ, causal);
    const kBlocks = Math.ceil(shape.kvLength / blockK);
    const scores = await pooledBlockScores(input, ctx, {
      blockQ,
      blockK,
      qPool: 'mean',
      kPool: 'mean',
      scale: 1 / Math.sqrt(shape.dim),
      causal,
    });
    const rows = qBlocks.count;
    const probs = new Float64Array(rows * kBlocks);
    const chosen = new Uint8Array(shape.heads * rows * kBlocks);
    // The own blocks count toward a top-k budget, as MoBA's +inf gate on the current chunk does: one key block when
    // blockQ <= blockK, up to ⌈blockQ / blockK⌉ + 1 when a query block spans several.
    const forcedOf = (qb: number): number => {
      const own = qBlocks.ownKeyBlocks(qb, blockK);
      return own.last - own.first + 1;
    };
    for (let h = 0; h < shape.heads; h++) {
      const base = h * rows * kBlocks;
      for (let qb = 0; qb < rows; qb++) {
        softmaxInto(scores.data.subarray(base + qb * kBlocks, base + (qb + 1) * kBlocks), 0, kBlocks, probs.subarray(qb * kBlocks));
      }
      // Blocks in the future are never candidates.
      for (let i = 0; i < probs.length; i++) if ((scores.data[base + i] as number) === -Infinity) probs[i] = -Infinity;
      if (params.mode === 'cumulative') {
        if (params.global) {
          for (const i of topIndices(probs, 0, probs.length, coverCount(probs, 0, probs.length, params.threshold))) chosen[base + i] = 1;
        } else {
          for (let qb = 0; qb < rows; qb++) {
            const from = qb * kBlocks;
            for (const i of topIndices(probs, from, from + kBlocks, coverCount(probs, from, from + kBlocks, params.threshold))) {
              chosen[base + i] = 1;
            }
          }
        }
      }
      for (let qb = 0; qb < rows; qb++) {
        const own = qBlocks.ownKeyBlocks(qb, blockK);
        for (let kb = own.first; kb <= own.last; kb++) {
          chosen[base + qb * kBlocks + kb] = 1;
          probs[qb * kBlocks + kb] = -Infinity;
        }
      }
      if (params.mode === 'topk') {
        if (params.global) {
          let budget = 0;
          for (let qb = 0; qb < rows; qb++) budget += Math.max(0, params.topK - forcedOf(qb));
          for (const i of topIndices(probs, 0, probs.length, budget)) chosen[base + i] = 1;
        } else {
          for (let qb = 0; qb < rows; qb++) {
            const from = qb * kBlocks;
            for (const i of topIndices(probs, from, from + kBlocks, Math.max(0, params.topK - forcedOf(qb)))) chosen[base + i] = 1;
          }
        }
      }
    }
    return buildSparseMask(shape, ctx, { causal }, (h, qb, row) => {
      const base = (h * rows + qb) * kBlocks;
      for (let kb = 0; kb < kBlocks; kb++) if (chosen[base + kb]) row.addBlock(kb);
    });
  },
});
