// The one call site of the offline per-head recipe search. `searchRecipe` is moving from @sparseland/estimators to
// @sparseland/eval: when it lands, only the import below changes.
import type { Backend, Registry } from '@sparseland/core';
import { defaultCandidates, type SearchResult, searchRecipe } from '@sparseland/estimators';
import type { TraceItem } from '../engine/protocol.js';

export interface RecipeSearchOptions {
  readonly traces: readonly TraceItem[];
  readonly budget: number;
  readonly objective: 'recall' | 'output-error';
  readonly registry: Registry;
  readonly backend: Backend;
  readonly onProgress: (done: number, total: number, message: string) => void;
}

/** MInference-style per-head search over the default candidate grid for the passage length, on every layer. */
export async function runRecipeSearch(options: RecipeSearchOptions): Promise<{ result: SearchResult; candidates: number }> {
  const length = options.traces[0]?.k.length ?? 0;
  const candidates = defaultCandidates(length);
  const total = options.traces.length;
  let done = 0;
  const result = await searchRecipe({
    traces: options.traces.map((t) => ({ layer: t.layer, q: t.q, k: t.k, v: t.v })),
    candidates,
    budget: options.budget,
    objective: options.objective,
    registry: options.registry,
    backend: options.backend,
    onProgress: (message) => options.onProgress(++done, total, message),
  });
  return { result, candidates: candidates.length };
}
