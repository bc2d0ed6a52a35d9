import { defineEstimator, type HeadTensor, kvHeadOf } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { rowReductions } from '../common/backend-ops.js';
import { QueryBlocks } from '../common/geometry.js';
import { angularBucketsFromExtremes, mixSeed, randomDirections, sortByBucket } from '../common/lsh.js';
import { buildSparseMask } from '../common/mask-builder.js';
import { PAPERS } from '../papers.js';
import { withRettention } from '../rettention/with-rettention.js';

/**
 * Reformer's LSH attention as a mask. Angular LSH h(x) = argmax([xR; −xR]) with random rotations R hashes queries
 * and keys with the same projections; keys are sorted by (bucket, position) and cut into chunks of `chunkLength`;
 * a query falls where its (bucket, position) sorts among the keys and attends to that chunk, `numChunksBefore`
 * chunks before and `numChunksAfter` after, over `numHashes` rounds (union). Reformer shares Q and K, so a query
 * never misses itself; with separate Q and K the query's own key is kept to play that role. Defaults are Hugging
 * Face's ReformerConfig: chunk 64, one chunk back, none ahead, one hash, buckets ≈ 2N / chunk (a power of two).
 */
const method = defineEstimator({
  name: 'reformer-lsh',
  summary: 'Reformer LSH: angular-hash sort of Q and K, attend within the sorted chunk and the chunk before.',
  paper: PAPERS.reformer,
  budget: { param: 'chunkLength', denser: 'higher' },
  params: z
    .object({
      chunkLength: intParam(1, 64, 'keys per chunk of the sorted order (lsh_attn_chunk_length 64)'),
      numChunksBefore: intParam(0, 1, 'earlier chunks also attended (lsh_num_chunks_before 1)'),
      numChunksAfter: intParam(0, 0, 'later chunks also attended (lsh_num_chunks_after 0)'),
      numHashes: intParam(1, 1, 'hash rounds, unioned (num_hashes 1)'),
      numBuckets: intParam(0, 0, 'buckets per round, even; 0 = the power of two nearest 2N / chunkLength'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { heads, kvHeads, kvLength, qLength, qOffset, dim } = shape;
    const blocks = new QueryBlocks(shape, ctx.blockQ, causal);
    const auto = 2 ** Math.max(1, Math.round(Math.log2(Math.max(2, (2 * kvLength) / params.chunkLength))));
    const buckets = params.numBuckets > 0 ? params.numBuckets + (params.numBuckets % 2) : auto;
    const half = buckets / 2;
    const chunk = params.chunkLength;
    const chunks = Math.ceil(kvLength / chunk);
    // marked[(h · blocks + qb) · rounds · chunks + round · chunks + c]: the block's rows attend to sorted-order chunk c.
    const perRow = params.numHashes * chunks;
    const marked = new Uint8Array(heads * blocks.count * perRow);
    const sortedKeys: Int32Array[] = [];
    for (let round = 0; round < params.numHashes; round++) {
      const rotations = randomDirections(half, dim, mixSeed(ctx.seed, ctx.layer, round, 4));
      // Buckets from the backend's row maximum and minimum of each token's projections (no projection comes back).
      const hash = async (t: HeadTensor): Promise<Int32Array> => {
        const { max, min } = await rowReductions(ctx, t, rotations, { max: true, min: true });
        if (!max || !min) throw new Error('reformer-lsh: the backend returned no row extremes');
        return angularBucketsFromExtremes(max, min, half);
      };
      const qb = await hash(input.q);
      const kb = await hash(input.k);
      for (let g = 0; g < kvHeads; g++) sortedKeys[round * kvHeads + g] = sortByBucket(kb, g * kvLength, 0, kvLength);
      for (let h = 0; h < heads; h++) {
        const g = kvHeadOf(h, heads, kvHeads);
        const keys = sortedKeys[round * kvHeads + g] as Int32Array;
        for (let i = 0; i < qLength; i++) {
          const bucket = qb[h * qLength + i] as number;
          const pos = qOffset + i;
          // Where (bucket, pos) sorts among the keys' (bucket, position).
          let lo = 0;
          let hi = kvLength;
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            const j = keys[mid] as number;
            const bj = kb[g * kvLength + j] as number;
            if (bj < bucket || (bj === bucket && j < pos)) lo = mid + 1;
            else hi = mid;
          }
          const c = Math.min(chunks - 1, Math.floor(lo / chunk));
          const base = (h * blocks.count + Math.floor(i / ctx.blockQ)) * perRow + round * chunks;
          for (let cc = Math.max(0, c - params.numChunksBefore); cc <= Math.min(chunks - 1, c + params.numChunksAfter); cc++) {
            marked[base + cc] = 1;
          }
        }
      }
    }
    return buildSparseMask(shape, ctx, { causal }, (h, qbIndex, row) => {
      const g = kvHeadOf(h, heads, kvHeads);
      for (let i = blocks.firstRow(qbIndex); i < blocks.endRow(qbIndex); i++) row.addKey(Math.min(qOffset + i, kvLength - 1));
      const base = (h * blocks.count + qbIndex) * perRow;
      for (let id = 0; id < perRow; id++) {
        if (!marked[base + id]) continue;
        const round = Math.floor(id / chunks);
        const c = id % chunks;
        const keys = sortedKeys[round * kvHeads + g] as Int32Array;
        for (let t = c * chunk; t < Math.min(kvLength, (c + 1) * chunk); t++) row.addKey(keys[t] as number);
      }
    });
  },
});

export const reformerLsh = withRettention(method);
