import { definePattern } from '@sparseland/core';
import type { PatternInstance } from '@sparseland/core/kit';
import { z } from 'zod';
import { expectMaskShape } from '../engine/pattern-instance.js';
import { PAPERS } from '../papers.js';

/**
 * ALiBi's head slopes: for H a power of two, m_h = 2^(−maxBias·(h+1)/H); otherwise the slopes of the nearest lower
 * power of two followed by every other slope of twice that many heads (the paper's recipe).
 */
export function alibiSlopes(heads: number, maxBias = 8): number[] {
  const geometric = (n: number) => Array.from({ length: n }, (_, i) => 2 ** ((-maxBias * (i + 1)) / n));
  const lower = 2 ** Math.floor(Math.log2(heads));
  if (lower === heads) return geometric(heads);
  const extra = geometric(2 * lower).filter((_, i) => i % 2 === 0);
  return [...geometric(lower), ...extra.slice(0, heads - lower)];
}

/**
 * ALiBi: adds −m_h·|q − k| to every logit (a static ScoreMod; no pair is dropped). In causal use |q − k| = q − k,
 * the paper's bias; the absolute value keeps bidirectional calls decaying both ways. Combine with a mask pattern
 * through a recipe's `intersect`.
 */
export const alibi = definePattern({
  name: 'alibi',
  summary: 'ALiBi: a static linear distance penalty −m_h·|q − k| per head (score modifier, keeps every pair).',
  paper: PAPERS.alibi,
  budget: 'none',
  params: z
    .object({
      maxBias: z.number().positive().default(8).describe('slopes are 2^(−maxBias·(h+1)/H) (the paper uses 8)'),
    })
    .strict(),
  build: ({ maxBias }): PatternInstance => ({
    causal: false,
    scoreMod(shape) {
      const slopes = alibiSlopes(expectMaskShape(shape, 'alibi.scoreMod').heads, maxBias);
      return (score, h, q, k) => score - (slopes[h] as number) * Math.abs(q - k);
    },
  }),
});
