import { definePattern } from '@sparseland/core';
import { flagParam, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { HUGE, interval, PeriodicSet } from '../engine/int-set.js';
import { termPattern } from '../engine/pattern-instance.js';
import type { Term } from '../engine/term.js';
import { blockGridTerm } from '../engine/terms/block-grid-term.js';
import { columnsTerm } from '../engine/terms/columns-term.js';
import { diagonalTerm } from '../engine/terms/diagonal-term.js';
import { PAPERS } from '../papers.js';

/**
 * S2-attention / DKernel heterogeneous context sharding on blocks of `blockSize` tokens, causal: query block Q sees
 * key block K ≤ Q iff Q − K < localBlocks or (K + shard·headSlidingStep + headSlidingOffset) mod vertStride = 0.
 * Each shard (a query head, or `groupSize` heads sharing a KV head) gets a different offset, so the union over
 * heads covers every block. The last `denseHeads` shards are dense; with `denseEvery` = n every n-th layer
 * ((layer + 1) mod n = 0) is dense (Phi-3-small: 2).
 */
export const s2Attention = definePattern({
  name: 's2-attention',
  summary: 'S2-attention (DKernel): local blocks plus a vertical stride whose offset differs per head, sharding the context over heads.',
  paper: PAPERS.s2Attention,
  budget: { param: 'localBlocks', denser: 'higher' },
  params: z
    .object({
      blockSize: intParam(1, 64, 'tokens per block (DKernel and Phi-3-small: 64)'),
      localBlocks: intParam(0, 16, 'most recent blocks every query block sees (Phi-3-small 16; DKernel default 4)'),
      vertStride: intParam(1, 8, 'every vertStride-th block is kept, at a per-head offset (Phi-3-small 8; DKernel default 4)'),
      headSlidingStep: intParam(0, 0, 'offset step between shards; 0 = max(1, floor(vertStride / heads)) as DKernel'),
      headSlidingOffset: intParam(0, 0, 'offset added for every shard (DKernel head_sliding_offset)'),
      groupSize: intParam(1, 1, 'query heads sharing one shard (the GQA group when sharding per KV head)'),
      denseHeads: intParam(0, 0, 'number of last shards that attend densely'),
      homogeneous: flagParam(false, 'every head uses shard 0 (DKernel homo_head)'),
      denseEvery: intParam(0, 0, 'make layer l dense when (l + 1) mod denseEvery = 0 (0 = never; Phi-3-small 2)'),
    })
    .strict(),
  build: (p) =>
    termPattern('s2-attention', true, (shape) => {
      const dense = p.denseEvery > 0 && ((shape.layer ?? 0) + 1) % p.denseEvery === 0;
      if (dense) return { maskMod: (_h, q, k) => k <= q, layout: { classes: [[diagonalTerm(interval(0, HUGE))]] } };
      const { blockSize: size, localBlocks, vertStride } = p;
      const step = p.headSlidingStep > 0 ? p.headSlidingStep : Math.max(1, Math.floor(vertStride / shape.heads));
      const shards = Math.ceil(shape.heads / p.groupSize);
      const DENSE = -1;
      // The residue r such that key blocks K ≡ r (mod vertStride) are kept, per query head; DENSE for dense shards.
      const residueOf = (h: number): number => {
        const shard = p.homogeneous ? 0 : Math.floor(h / p.groupSize);
        if (!p.homogeneous && shard >= shards - p.denseHeads) return DENSE;
        const shift = (shard * step + p.headSlidingOffset) % vertStride;
        return (vertStride - shift) % vertStride;
      };
      const local = blockGridTerm(size, (qb) => interval(qb - localBlocks + 1, qb), true);
      const classes: Term[][] = Array.from({ length: vertStride }, (_, r) => [
        local,
        columnsTerm(new PeriodicSet(vertStride * size, size, r * size, 0, HUGE), true),
      ]);
      classes.push([diagonalTerm(interval(0, HUGE))]);
      return {
        maskMod: (h, q, k) => {
          if (k > q) return false;
          const r = residueOf(h);
          if (r === DENSE) return true;
          const qb = Math.floor(q / size);
          const kb = Math.floor(k / size);
          return qb - kb < localBlocks || kb % vertStride === r;
        },
        layout: { classes, classOf: (h) => (residueOf(h) === DENSE ? vertStride : residueOf(h)) },
      };
    }),
});
