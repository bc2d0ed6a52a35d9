import { definePattern } from '@sparseland/core';
import { flagParam, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { IntervalSet, interval } from '../engine/int-set.js';
import { termPattern } from '../engine/pattern-instance.js';
import { columnsTerm } from '../engine/terms/columns-term.js';
import { diagonalTerm } from '../engine/terms/diagonal-term.js';
import { rowsTerm } from '../engine/terms/rows-term.js';
import { PAPERS } from '../papers.js';

/**
 * Longformer: a sliding window of `window` tokens (window / 2 on each side, HF's attention_window) plus symmetric
 * global attention: global tokens see every key and every query sees them. Causal keeps only keys k ≤ q.
 */
export const longformer = definePattern({
  name: 'longformer',
  summary: 'Longformer: sliding window (window / 2 on each side) plus global tokens that see and are seen by everything.',
  paper: PAPERS.longformer,
  budget: { param: 'window', denser: 'higher' },
  params: z
    .object({
      window: intParam(2, 512, 'attention_window: keys within window / 2 on each side are kept'),
      globalTokens: z
        .array(z.number().int().min(0))
        .default([0])
        .describe('absolute positions with global attention (e.g. [CLS] = 0, question tokens)'),
      causal: flagParam(false, 'keep only keys k <= q (autoregressive use)'),
    })
    .strict(),
  build: ({ window, globalTokens, causal }) =>
    termPattern('longformer', causal, () => {
      const half = Math.floor(window / 2);
      const globals = new IntervalSet(globalTokens.map((t) => [t, t] as const));
      const isGlobal = new Set(globalTokens);
      return {
        maskMod: (_h, q, k) => {
          if (causal && k > q) return false;
          return Math.abs(q - k) <= half || isGlobal.has(q) || isGlobal.has(k);
        },
        layout: {
          classes: [[diagonalTerm(interval(causal ? 0 : -half, half)), columnsTerm(globals, causal), rowsTerm(globals, causal)]],
        },
      };
    }),
});
