import { ColumnMask, defineEstimator } from '@sparseland/core';
import { buildBlockMask, numberParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { PAPERS } from '../papers.js';
import { MAX_STRIDE } from '../permutation.js';
import { paroBlocks } from './paro-blocks.js';

/**
 * PAROAttention for text: each head reorders its tokens by an offline-chosen stride (choosePermutations), which
 * gathers strided or periodic attention into blocks; a low-bit (int4) block estimate on the permuted order keeps the
 * blocks covering `coverage` of the estimated block softmax. `paroAttention()` runs attention in that order and maps
 * the output back. As an estimator the mask is mapped back to the original order: a head with stride 1 keeps its
 * blocks; a permuted head keeps, per original query block, the union of its rows' keys as columns (a superset of the
 * permuted selection, so the same recall at a higher density).
 */
export const paro = defineEstimator({
  name: 'paro',
  summary: 'PAROAttention: a per-head token reordering makes attention block-wise; int4 block estimates pick blocks.',
  paper: PAPERS.paro,
  params: z
    .object({
      strides: z
        .array(z.number().int().min(1).max(MAX_STRIDE))
        .max(1024)
        .optional()
        .describe('per query head reorder stride (from choosePermutations); 1 = original order (default for every head)'),
      bits: z
        .union([z.literal(4), z.literal(8)])
        .default(4)
        .describe('quantisation of the block estimate (PARO: INT4/INT8 attention)'),
      coverage: numberParam(0, 1, 0.9, 'estimated block softmax mass kept per permuted query block (this library’s selection rule)'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape } = input;
    const { qLength, kvLength, qOffset } = shape;
    const heads = await paroBlocks(input, ctx, params);
    const qBlocks = Math.ceil(qLength / ctx.blockQ);
    const blocks = buildBlockMask(shape, ctx, { trusted: true }, (h, qb, full) => {
      const head = heads[h];
      if (head?.stride !== 1) return;
      // Stride 1: the permuted order is the original one, and so are the blocks.
      full.pushAll(head.kept[qb] as Int32Array);
    });
    const rowsOf = heads.map((head) => {
      const at = new Int32Array(qLength);
      for (let r = 0; r < qLength; r++) at[head.rowOrder[r] as number] = r;
      return at;
    });
    const flags = new Uint8Array(kvLength);
    const columns = ColumnMask.build(shape, ctx.blockQ, { trusted: true }, (h, qb, cols) => {
      const head = heads[h];
      if (!head || head.stride === 1 || qb >= qBlocks) return;
      flags.fill(0);
      const last = Math.min(kvLength - 1, qOffset + Math.min(qLength, (qb + 1) * ctx.blockQ) - 1);
      for (let i = qb * ctx.blockQ; i < Math.min(qLength, (qb + 1) * ctx.blockQ); i++) {
        const pqb = Math.floor((rowsOf[h]?.[i] as number) / ctx.blockQ);
        for (const pkb of head.kept[pqb] as Int32Array) {
          for (let t = pkb * ctx.blockK; t < Math.min(kvLength, (pkb + 1) * ctx.blockK); t++) flags[head.order[t] as number] = 1;
        }
      }
      for (let j = 0; j <= (input.causal ? last : kvLength - 1); j++) if (flags[j]) cols.push(j);
    });
    return { blocks, columns };
  },
});
