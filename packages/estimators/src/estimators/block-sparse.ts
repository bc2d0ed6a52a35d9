import { blockMaskFromScores, unionBlockMasks } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { pooledBlockScores } from '../common/backend-ops.js';
import { defineEstimator } from '../common/define.js';
import { ownKeyBlocks } from '../common/geometry.js';
import { PAPERS } from '../papers.js';

/**
 * MInference's block-sparse estimate: mean-pool Q and K over blocks, take the raw pooled dot products (no softmax,
 * no scale) under a causal block mask, and keep the `topK` best key blocks of every query block (default 100, as
 * MInference). Block sizes are the recipe's (MInference uses 64×64). The key blocks of each row's own key are kept
 * too: with blockQ > blockK the top-k alone can leave a block's first rows with no key at all.
 */
export const blockSparse = defineEstimator({
  name: 'block-sparse',
  summary: 'MInference block-sparse: mean-pooled Q·K per block, top-k key blocks per query block.',
  paper: PAPERS.minference,
  params: z
    .object({
      topK: intParam(1, 100, 'key blocks kept per query block (MInference top_k 100)'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const scores = await pooledBlockScores(input, ctx, {
      blockQ: ctx.blockQ,
      blockK: ctx.blockK,
      qPool: 'mean',
      kPool: 'mean',
      scale: 1,
      causal: input.causal,
    });
    const top = blockMaskFromScores(scores, input.shape, { topK: params.topK });
    return { blocks: unionBlockMasks(top, ownKeyBlocks(input.shape, ctx)) };
  },
});
