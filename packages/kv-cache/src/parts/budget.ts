import { SparselandError } from '@sparseland/core';
import type { KvCacheLayer } from '@sparseland/core/kit';
import { z } from 'zod';

/**
 * A budget of slots per kv head: an integer >= 1 counts tokens; a number in (0, 1) is a fraction of the prompt
 * (the tokens written when the prompt's prefill ended), so `0.25` keeps a quarter of the full cache.
 */
export function budgetParam(fallback: number, description: string) {
  return z
    .number()
    .gt(0, 'a budget must be > 0: a token count (integer >= 1) or a fraction of the prompt in (0, 1)')
    .max(2 ** 21, 'a budget is at most 2^21 tokens')
    .refine((b) => b < 1 || Number.isInteger(b), 'a budget >= 1 counts tokens and must be an integer')
    .default(fallback)
    .describe(`${description} (integer: tokens per kv head; in (0, 1): fraction of the prompt)`);
}

// Keyed by the cache object: sessions have their own caches, and per-head views their own view objects.
const PROMPT = new WeakMap<KvCacheLayer, number>();

/** Records the prompt length of a cache (the first time its prefill ends); fractions of budgets refer to it. */
export function notePrompt(cache: KvCacheLayer): void {
  if (!PROMPT.has(cache)) PROMPT.set(cache, cache.written());
}

/** Tokens the prompt wrote into this cache (tokens written so far when no prefill was recorded). */
export function promptTokens(cache: KvCacheLayer): number {
  return PROMPT.get(cache) ?? cache.written();
}

/** The budget in slots per kv head for this cache: a token count, or the fraction of its prompt (at least 1). */
export function budgetFor(cache: KvCacheLayer, budget: number): number {
  if (budget >= 1) return budget;
  return Math.max(1, Math.round(budget * promptTokens(cache)));
}

/** Throws E_PARAMS when protected slots (sinks + recent window) cannot fit a token budget. */
export function expectProtectedFit(name: string, budget: number, sink: number, recent: number): void {
  if (budget >= 1 && sink + recent > budget) {
    throw new SparselandError(
      'E_PARAMS',
      `invalid params for kv-policy "${name}": sink (${sink}) + recent (${recent}) must fit in the budget (${budget} tokens)`,
    );
  }
}
