import { definePattern } from '@sparseland/core';
import { buildBlockMask } from '@sparseland/core/kit';
import { z } from 'zod';

export const localBand = definePattern({
  name: 'local-band', // kebab-case, unique per kind, used in every error message
  summary: 'Each query sees the previous `window` keys.',
  paper: { title: 'Longformer: The Long-Document Transformer', year: 2020, url: 'https://arxiv.org/abs/2004.05150' },
  params: z.object({ window: z.number().int().min(1).default(256) }).strict(),
  build: ({ window }) => {
    const keep = (_h: number, q: number, k: number) => k <= q && q - k < window;
    return {
      causal: true,
      // The exact definition: the oracle the fast builder is tested against.
      maskMod: () => keep,
      // The fast builder: one shared head, full blocks inside the band, partial blocks on its edges.
      mask: (shape, { blockQ, blockK }) => ({
        blocks: buildBlockMask(shape, { blockQ, blockK }, { heads: 1, maskMod: keep }, (_h, qb, full, partial) => {
          const first = shape.qOffset + qb * blockQ; // first query position of the block
          const last = shape.qOffset + Math.min(shape.qLength, (qb + 1) * blockQ) - 1;
          const kbEnd = Math.min(last, shape.kvLength - 1);
          for (let kb = Math.floor(Math.max(0, first - window + 1) / blockK); kb * blockK <= kbEnd; kb++) {
            const k0 = kb * blockK;
            const k1 = Math.min(shape.kvLength, k0 + blockK) - 1;
            if (k1 <= first && last - k0 < window) full.push(kb);
            else partial.push(kb);
          }
        }),
      }),
    };
  },
});
