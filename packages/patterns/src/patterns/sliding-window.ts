import { definePattern } from '@sparseland/core';
import { flagParam, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { interval } from '../engine/int-set.js';
import { termPattern } from '../engine/pattern-instance.js';
import { diagonalTerm } from '../engine/terms/diagonal-term.js';
import { PAPERS } from '../papers.js';

/**
 * FlexAttention's sliding window (local band). Causal: query q sees the `window` keys q − window + 1 … q (itself
 * included; attention-gym's `q − kv <= W` is window W + 1). Bidirectional: window − 1 keys on each side.
 */
export const slidingWindow = definePattern({
  name: 'sliding-window',
  summary: 'Local band: each query attends to the `window` nearest keys (itself included), causal or on both sides.',
  paper: PAPERS.flexAttention,
  budget: { param: 'window', denser: 'higher' },
  params: z
    .object({
      window: intParam(1, 4096, 'keys each query sees, itself included (Mistral 7B: 4096)'),
      causal: flagParam(true, 'look back only; false keeps window − 1 keys on each side'),
    })
    .strict(),
  build: ({ window, causal }) =>
    termPattern('sliding-window', causal, () => ({
      maskMod: causal ? (_h, q, k) => k <= q && q - k < window : (_h, q, k) => Math.abs(q - k) < window,
      layout: { classes: [[diagonalTerm(interval(causal ? 0 : -(window - 1), window - 1))]] },
    })),
});
