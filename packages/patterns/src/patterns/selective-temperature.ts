import { definePattern } from '@sparseland/core';
import type { PatternInstance } from '@sparseland/core/kit';
import { z } from 'zod';
import { expectMaskShape } from '../engine/pattern-instance.js';
import { PAPERS } from '../papers.js';

/**
 * The static, position-dependent part of Selective Self-Attention's query temperature: each logit of query q is
 * multiplied by τ_h(q) = 1 + α_h · ln(1 + q / base), sharpening later queries against attention dilution as the
 * context grows. SSA's other term depends on the query embedding (learned weights) and is not static, so it is not
 * here; this log-position form is our parametrisation (README).
 */
export const selectiveTemperature = definePattern({
  name: 'selective-temperature',
  summary: 'Selective-attention-style temperature: logits of later queries are sharpened by 1 + α·ln(1 + q / base) (score modifier).',
  paper: PAPERS.selectiveAttention,
  budget: 'none',
  params: z
    .object({
      alpha: z
        .union([z.number().min(0), z.array(z.number().min(0)).min(1)])
        .default(0.1)
        .describe('strength α per head (one value, or one per head, cycled)'),
      base: z.number().positive().default(512).describe('position scale: τ grows by α·ln 2 when q goes from 0 to base'),
    })
    .strict(),
  build: ({ alpha, base }): PatternInstance => ({
    causal: false,
    scoreMod(shape) {
      const heads = expectMaskShape(shape, 'selective-temperature.scoreMod').heads;
      const strengths = Array.from({ length: heads }, (_, h) => (Array.isArray(alpha) ? (alpha[h % alpha.length] as number) : alpha));
      return (score, h, q) => score * (1 + (strengths[h] as number) * Math.log1p(q / base));
    },
  }),
});
