// KV policies in recipes: names resolve against the registry's kv-policy plugins, params are validated with the
// plugin's schema (paths in errors), and the compiled policy routes each layer's kv heads to theirs through views.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { KvCacheLayer, KvPolicy } from '../kv-policy.js';
import { TokenSelection } from '../masks/token-selection.js';
import { defineKvPolicy } from '../plugins/define.js';
import { createRegistry } from '../plugins/registry.js';
import { compileRecipe } from '../recipes/compile.js';
import { parseRecipe } from '../recipes/schema.js';
import { randomHeadTensor } from '../tensor/head-tensor.js';
import { kvHeadView } from './kv-head-view.js';
import { LayerKvCache } from './layer-kv-cache.js';

/** A toy policy that keeps the newest `keep` slots of every head it sees and records what it saw. */
const seen: string[] = [];
const keepLast = defineKvPolicy({
  name: 'keep-last',
  summary: 'Keeps the newest `keep` slots.',
  params: z.object({ keep: z.number().int().min(1).default(2) }).strict(),
  build: ({ keep }): KvPolicy => ({
    name: 'keep-last',
    afterPrefill(cache, queries, ctx) {
      seen.push(`L${ctx.layer} heads ${cache.kvHeads} q ${queries.heads} keep ${keep}`);
      for (let g = 0; g < cache.kvHeads; g++) {
        const n = cache.length(g);
        if (n > keep)
          cache.retain(
            g,
            Int32Array.from({ length: keep }, (_, i) => n - keep + i),
          );
      }
    },
    select: (cache) =>
      TokenSelection.fromLists(
        Array.from({ length: cache.kvHeads }, (_, g) => [cache.length(g) - 1]),
        Math.max(...Array.from({ length: cache.kvHeads }, (_, g) => cache.length(g))),
      ),
    budget: (cache) => ({ slots: keep * cache.kvHeads }),
  }),
});
const registry = createRegistry({ plugins: [keepLast] });

function filledCache(layer: number, kvHeads: number, length: number): LayerKvCache {
  const cache = new LayerKvCache(layer, kvHeads, 4);
  const t = randomHeadTensor({ heads: kvHeads, length, dim: 4, seed: layer + 1 });
  cache.append(t, t, 0);
  return cache;
}

const ctxOf = (layer: number) => ({ layer, layers: 3, step: 0, position: 9, session: {} });

describe('recipes name KV policies', () => {
  it('parses kv at the top, per layer and per kv head; layer objects with only kv keep the default mask', () => {
    const doc = parseRecipe({
      default: { method: 'dense' },
      kv: { method: 'keep-last' },
      layers: { '1': { kvHeads: { '0': { method: 'keep-last', params: { keep: 3 } } } } },
    });
    expect(doc.kv).toEqual({ method: 'keep-last' });
    expect(doc.layers?.['1']?.kvHeads?.['0']).toEqual({ method: 'keep-last', params: { keep: 3 } });
    expect(doc.layers?.['1']?.default).toBeUndefined();
    expect(() => parseRecipe({ default: { method: 'dense' }, layers: { '0': { kvHeads: { x: { method: 'keep-last' } } } } })).toThrow(
      /E_RECIPE.*layers\.0\.kvHeads\.x/,
    );
  });

  it('a recipe without kv entries compiles to no policy', () => {
    expect(compileRecipe({ method: 'dense' }, registry).kvPolicy).toBeUndefined();
  });

  it('unknown KV policies and bad params name the path', () => {
    expect(() => compileRecipe({ default: { method: 'dense' }, kv: { method: 'keep-lats' } }, registry)).toThrow(
      /E_UNKNOWN_PLUGIN.*kv\.method: unknown KV policy "keep-lats". Did you mean "keep-last"\?/,
    );
    expect(() =>
      compileRecipe(
        { default: { method: 'dense' }, layers: { '2': { kvHeads: { '1': { method: 'keep-last', params: { keep: 0 } } } } } },
        registry,
      ),
    ).toThrow(/E_PARAMS.*layers\.2\.kvHeads\.1\.params\.keep/);
  });

  it('routes each layer and kv head to its policy through per-head views', () => {
    seen.length = 0;
    const compiled = compileRecipe(
      {
        default: { method: 'dense' },
        kv: { method: 'keep-last', params: { keep: 5 } },
        layers: {
          '1': { kvHeads: { '1': { method: 'keep-last', params: { keep: 2 } } } },
          '2': { kv: { method: 'keep-last', params: { keep: 1 } } },
        },
      },
      registry,
    );
    const policy = compiled.kvPolicy as KvPolicy;
    const queries = randomHeadTensor({ heads: 6, length: 3, dim: 4, seed: 7 });
    const caches = [0, 1, 2].map((l) => filledCache(l, 3, 8));
    caches.forEach((c, l) => policy.afterPrefill?.(c, queries, ctxOf(l)));
    expect(seen).toEqual(['L0 heads 3 q 6 keep 5', 'L1 heads 2 q 4 keep 5', 'L1 heads 1 q 2 keep 2', 'L2 heads 3 q 6 keep 1']);
    expect([0, 1, 2].map((g) => caches[0]!.length(g))).toEqual([5, 5, 5]);
    expect([0, 1, 2].map((g) => caches[1]!.length(g))).toEqual([5, 2, 5]);
    expect([0, 1, 2].map((g) => caches[2]!.length(g))).toEqual([1, 1, 1]);
    // Selections of the groups merge into one over the layer (kvLength = longest head).
    const selection = policy.select?.(caches[1]!, randomHeadTensor({ heads: 6, length: 1, dim: 4, seed: 8 }), ctxOf(1)) as TokenSelection;
    expect(selection.kvLength).toBe(5);
    expect([0, 1, 2].map((g) => Array.from(selection.slotsOf(g)))).toEqual([[4], [1], [4]]);
    expect(policy.budget?.(caches[1]!, ctxOf(1))).toEqual({ slots: 12, selected: undefined });
    expect(() => policy.afterPrefill?.(filledCache(1, 1, 8), randomHeadTensor({ heads: 2, length: 1, dim: 4, seed: 1 }), ctxOf(1))).toThrow(
      /E_RECIPE.*layers\.1\.kvHeads\.1: the model has only 1 kv heads/,
    );
  });

  it('kvHeadView maps heads, shares storage and is memoised per (cache, heads)', () => {
    const cache = filledCache(0, 3, 6);
    const view = kvHeadView(cache, [2, 0]);
    expect(view).toBe(kvHeadView(cache, [2, 0]));
    expect(view.kvHeads).toBe(2);
    expect(Array.from(view.keys(0))).toEqual(Array.from(cache.keys(2)));
    view.retain(1, Int32Array.of(5));
    expect(cache.length(0)).toBe(1);
    expect(view.length(1)).toBe(1);
    expect(Array.from(view.packedView().heads[0]!.keys)).toEqual(Array.from(cache.packedView().heads[2]!.keys));
    expect(() => view.length(2)).toThrow(/E_PARAMS/);
    expect(() => kvHeadView(cache as KvCacheLayer, [3])).toThrow(/outside layer 0's 3 kv heads/);
  });
});
