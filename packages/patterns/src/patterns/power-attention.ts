import { definePattern } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { IntervalSet, interval, ReflectedSet } from '../engine/int-set.js';
import { sequenceLength, termPattern } from '../engine/pattern-instance.js';
import { blockGridTerm } from '../engine/terms/block-grid-term.js';
import { columnsTerm } from '../engine/terms/columns-term.js';
import { PAPERS } from '../papers.js';

/**
 * PowerAttention on blocks of `blockSize` tokens, causal: query block Q sees key block K iff Q − K < localBlocks or
 * Q − K is a power of two (1, 2, 4, …), plus the first `sinkBlocks` blocks. The same pattern in every layer: any
 * distance is a sum of distinct powers of two, so d layers reach 2^d blocks back (the paper's exponential receptive
 * field). The paper's exact window and sink sizes are not public; these defaults are our reading (README).
 */
export const powerAttention = definePattern({
  name: 'power-attention',
  summary: 'PowerAttention: local blocks plus blocks at power-of-two distances, so the receptive field doubles per layer.',
  paper: PAPERS.powerAttention,
  budget: { param: 'localBlocks', denser: 'higher' },
  params: z
    .object({
      blockSize: intParam(1, 64, 'tokens per block (1 = token-level pattern)'),
      localBlocks: intParam(1, 1, 'most recent blocks every query block sees (1 = its own block)'),
      sinkBlocks: intParam(0, 0, 'first blocks every query block sees'),
    })
    .strict(),
  build: ({ blockSize: size, localBlocks, sinkBlocks }) =>
    termPattern('power-attention', true, (shape) => {
      const blocks = Math.ceil(sequenceLength(shape) / size);
      const distances: [number, number][] = [[0, localBlocks - 1]];
      for (let d = 1; d < blocks; d *= 2) distances.push([d, d]);
      const kept = new IntervalSet(distances);
      const isPowerOfTwo = (d: number) => d > 0 && (d & (d - 1)) === 0;
      return {
        maskMod: (_h, q, k) => {
          if (k > q) return false;
          const kb = Math.floor(k / size);
          const d = Math.floor(q / size) - kb;
          return d < localBlocks || isPowerOfTwo(d) || kb < sinkBlocks;
        },
        layout: {
          classes: [[blockGridTerm(size, (qb) => new ReflectedSet(kept, qb), true), columnsTerm(interval(0, sinkBlocks * size - 1), true)]],
        },
      };
    }),
});
