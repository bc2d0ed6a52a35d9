import { createRegistry, definePattern } from '@sparseland/core';
import { z } from 'zod';

/** The previous `window` keys (the query's own key included): a local band, defined here so tests need no plugin package. */
export const testWindow = definePattern({
  name: 'test-window',
  summary: 'Each query sees the previous `window` keys (test-only).',
  params: z.object({ window: z.number().int().min(1).default(4) }).strict(),
  budget: { param: 'window', denser: 'higher' },
  build: ({ window }) => ({
    causal: true,
    maskMod: () => (_h, q, k) => k <= q && q - k < window,
  }),
});

/** Keeps every pair through a mask: the result must equal dense attention. */
export const testFull = definePattern({
  name: 'test-full',
  summary: 'Keeps every pair, through a mask (test-only).',
  params: z.object({}).strict(),
  budget: 'none',
  build: () => ({ causal: false, maskMod: () => () => true }),
});

export const testRegistry = createRegistry({ plugins: [testWindow, testFull] });
