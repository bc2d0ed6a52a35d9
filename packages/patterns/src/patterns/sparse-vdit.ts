import { definePattern } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { HUGE, interval, PeriodicSet } from '../engine/int-set.js';
import { termPattern } from '../engine/pattern-instance.js';
import { columnsTerm } from '../engine/terms/columns-term.js';
import { diagonalTerm } from '../engine/terms/diagonal-term.js';
import { PAPERS } from '../papers.js';

/**
 * Sparse-vDiT's three static head patterns for video DiTs (bidirectional). Its offline search assigns one per layer
 * and head (use a recipe's per-head entries); `skip` heads are not a mask. Code is unreleased, so the exact
 * parametrisation here is our reading of the paper (README):
 * - `diagonal`: |q − k| <= window (local attention);
 * - `multi-diagonal`: |q − k − m·F| <= window for a frame lag m with |m| <= maxLag (same spatial spot in other
 *   frames; F = tokensPerFrame);
 * - `vertical-stripe`: keys with k mod stripePeriod < stripeWidth, seen by every query (globally attended tokens).
 */
export const sparseVdit = definePattern({
  name: 'sparse-vdit',
  summary: 'Sparse-vDiT video head patterns: diagonal, multi-diagonal (repeated every frame) or vertical stripes.',
  paper: PAPERS.sparseVdit,
  budget: { param: 'window', denser: 'higher' },
  params: z
    .object({
      pattern: z.enum(['diagonal', 'multi-diagonal', 'vertical-stripe']).default('diagonal').describe('which head pattern'),
      window: intParam(0, 64, 'half-width of each diagonal band in tokens'),
      tokensPerFrame: intParam(1, 3600, 'F: video tokens per frame (diagonals repeat every F tokens)'),
      maxLag: z.number().int().min(0).optional().describe('largest frame lag |m| with a diagonal; default every frame'),
      stripePeriod: intParam(1, 3600, 'vertical stripes repeat every stripePeriod tokens'),
      stripeWidth: intParam(1, 64, 'tokens per vertical stripe'),
    })
    .strict(),
  build: (p) =>
    termPattern('sparse-vdit', false, () => {
      if (p.pattern === 'diagonal') {
        return {
          maskMod: (_h, q, k) => Math.abs(q - k) <= p.window,
          layout: { classes: [[diagonalTerm(interval(-p.window, p.window))]] },
        };
      }
      if (p.pattern === 'multi-diagonal') {
        const f = p.tokensPerFrame;
        const reach = p.maxLag === undefined ? HUGE : p.maxLag * f + p.window;
        return {
          maskMod: (_h, q, k) => {
            // Frame lags m with |q − k − m·F| <= window, clipped to |m| <= maxLag.
            const d = q - k;
            let lo = Math.ceil((d - p.window) / f);
            let hi = Math.floor((d + p.window) / f);
            if (p.maxLag !== undefined) {
              lo = Math.max(lo, -p.maxLag);
              hi = Math.min(hi, p.maxLag);
            }
            return lo <= hi;
          },
          layout: { classes: [[diagonalTerm(new PeriodicSet(f, 2 * p.window + 1, -p.window, -reach, reach))]] },
        };
      }
      return {
        maskMod: (_h, _q, k) => k % p.stripePeriod < p.stripeWidth,
        layout: { classes: [[columnsTerm(new PeriodicSet(p.stripePeriod, p.stripeWidth, 0, 0, HUGE), false)]] },
      };
    }),
});
