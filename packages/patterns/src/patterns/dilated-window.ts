import { definePattern } from '@sparseland/core';
import { flagParam, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { PeriodicSet } from '../engine/int-set.js';
import { termPattern } from '../engine/pattern-instance.js';
import { diagonalTerm } from '../engine/terms/diagonal-term.js';
import { PAPERS } from '../papers.js';

/**
 * Longformer's dilated sliding window: `window` keys spaced `dilation` apart, q, q − d, …, q − (window − 1)·d
 * (and the mirror image after q when bidirectional). Reaches window·dilation tokens at the cost of `window`.
 */
export const dilatedWindow = definePattern({
  name: 'dilated-window',
  summary: 'Dilated sliding window (Longformer): `window` keys spaced `dilation` apart, reaching window·dilation tokens back.',
  paper: PAPERS.longformer,
  budget: { param: 'window', denser: 'higher' },
  params: z
    .object({
      window: intParam(1, 256, 'keys on each side, the query included'),
      dilation: intParam(1, 2, 'gap between kept keys (1 = plain sliding window)'),
      causal: flagParam(true, 'look back only; false mirrors the window after the query'),
    })
    .strict(),
  build: ({ window, dilation, causal }) =>
    termPattern('dilated-window', causal, () => {
      const reach = (window - 1) * dilation;
      return {
        maskMod: (_h, q, k) => {
          const d = q - k;
          if (causal ? d < 0 || d > reach : Math.abs(d) > reach) return false;
          return d % dilation === 0;
        },
        layout: { classes: [[diagonalTerm(new PeriodicSet(dilation, 1, 0, causal ? 0 : -reach, reach))]] },
      };
    }),
});
