import type { Scorer } from '../parts/compose.js';

/** StreamingLLM's rule as a scorer: a slot is worth its position (the newest win); sinks come from the protected set. */
export const recencyScorer: Scorer<null> = {
  create: () => null,
  score: (_state, { cache }, g) => Float64Array.from(cache.positions(g)),
};
