import { createReferenceBackend, createRegistry, defineKvPolicy, TokenSelection } from '@sparseland/core';
import type { KvCacheLayer, KvPolicy } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatKvReport } from './format-kv.js';
import { compareKvPolicies, splitKvRecipe } from './kv-compare.js';
import { plantedDecodeNeedles } from './planted-needles.js';

const keepNewest = (cache: KvCacheLayer, keep: number) => {
  for (let g = 0; g < cache.kvHeads; g++) {
    const n = cache.length(g);
    if (n > keep)
      cache.retain(
        g,
        Int32Array.from({ length: keep }, (_, i) => n - keep + i),
      );
  }
};
// Small policies defined here: eval measures whatever KV policy a registry holds.
const noop = defineKvPolicy({ name: 'noop', summary: 'Keeps everything.', params: z.object({}).strict(), build: () => ({ name: 'noop' }) });
const selectAll = defineKvPolicy({
  name: 'select-all',
  summary: 'Selects every slot.',
  params: z.object({}).strict(),
  build: (): KvPolicy => ({ name: 'select-all', select: (cache) => TokenSelection.all(cache.kvHeads, cache.length(0)) }),
});
const window = defineKvPolicy({
  name: 'window',
  summary: 'Keeps the newest `keep` tokens.',
  params: z.object({ keep: z.number().int().min(1).default(8) }).strict(),
  build: ({ keep }): KvPolicy => ({ name: 'window', afterPrefill: (c) => keepNewest(c, keep), afterAppend: (c) => keepNewest(c, keep) }),
});
const registry = createRegistry({ plugins: [noop, selectAll, window] });
const kv = (method: string, params: Record<string, unknown> = {}) => ({
  label: method,
  recipe: { default: { method: 'dense' }, kv: { method, params } },
});

describe('compareKvPolicies', () => {
  it('a policy that keeps everything matches the full cache exactly; a small window loses recall, bytes and agreement', async () => {
    const report = await compareKvPolicies({
      model: 'stories260K',
      texts: [{ text: 'pride-and-prejudice', offset: 0 }],
      prompt: 96,
      continuation: 12,
      greedyTokens: 16,
      methods: [kv('noop'), kv('select-all'), kv('window', { keep: 6 })],
      registry,
      backend: createReferenceBackend(),
    });
    expect(report.results.length).toBe(3);
    for (const same of report.results.slice(0, 2)) {
      expect(same.nllDelta).toBe(0);
      expect(same.greedyAgreement).toBe(16);
      expect(same.recall).toBeCloseTo(1, 12);
      expect(same.bytesRatio).toBe(1);
    }
    const small = report.results[2]!;
    expect(small.recall).toBeLessThan(0.95);
    expect(small.recallMin).toBeLessThan(small.recall);
    expect(small.recall).toBeGreaterThan(0);
    // 6 of 96 slots per head, float32 rows + int32 positions: bytes scale with the slots held.
    expect(small.bytesRatio).toBeCloseTo(6 / 96, 10);
    expect(small.nllDelta).not.toBe(0);
    expect(report.summary.map((s) => s.method)).toEqual(['noop', 'select-all', 'window']);
    expect(formatKvReport(report)).toMatch(/window\s+0\.063/);
  });

  it('splitKvRecipe keeps the masks and hands the KV part over as a policy', async () => {
    const { maskRecipe, kvPolicy } = splitKvRecipe(
      { default: { method: 'dense' }, kv: { method: 'window', params: { keep: 3 } } },
      registry,
    );
    expect(maskRecipe.kv).toBeUndefined();
    expect(maskRecipe.default).toEqual({ method: 'dense' });
    expect(kvPolicy?.name).toBe('recipe');
    await expect(compareKvPolicies({ model: 'stories260K', methods: [], registry, backend: createReferenceBackend() })).rejects.toThrow(
      /E_PARAMS.*non-empty/,
    );
  });
});

describe('plantedDecodeNeedles', () => {
  const base = { context: 2048, layers: 3, qHeads: 4, kvHeads: 2, dim: 32, trials: 4, seed: 3 };
  it('a policy reading the exact top keys finds every needle; a recent window finds none', () => {
    const exactTop: KvPolicy = {
      name: 'exact-top',
      select: (cache, query) =>
        TokenSelection.fromLists(
          Array.from({ length: cache.kvHeads }, (_, g) => {
            const keys = cache.keys(g);
            const d = cache.dim;
            const scores = Array.from({ length: cache.length(g) }, (_, s) => {
              let best = -Infinity;
              for (let h = 2 * g; h < 2 * g + 2; h++) {
                let dot = 0;
                for (let c = 0; c < d; c++) dot += query.data[h * d + c]! * keys[s * d + c]!;
                best = Math.max(best, dot);
              }
              return best;
            });
            const order = scores.map((_, s) => s).sort((a, b) => scores[b]! - scores[a]!);
            return order.slice(0, 16);
          }),
          cache.length(0),
        ),
    };
    const found = plantedDecodeNeedles({ policy: exactTop, ...base });
    expect(found.rate).toBe(1);
    expect(found.selectedPerHead).toBe(16);
    expect(found.needleMass).toBeGreaterThan(0.1);
    const recent: KvPolicy = {
      name: 'recent',
      select: (cache) =>
        TokenSelection.fromLists(
          Array.from({ length: cache.kvHeads }, () => Array.from({ length: 64 }, (_, i) => cache.length(0) - 1 - i)),
          cache.length(0),
        ),
    };
    expect(plantedDecodeNeedles({ policy: recent, ...base }).found).toBe(0);
  });
});

describe('needleTraces', () => {
  it('plants a pass key in filler, asks for it at the end, and captures every layer', async () => {
    const { needleTraces } = await import('./needle-traces.js');
    const [trace] = await needleTraces({ model: 'stories260K', prompts: 1, length: 160, seed: 2 });
    expect(trace!.layers.length).toBe(5);
    expect(trace!.layers[0]!.q.length).toBe(160);
    expect(trace!.layers[4]!.k.heads).toBe(4);
    expect(trace!.queryRows).toEqual(Array.from({ length: 8 }, (_, i) => 152 + i));
    expect(trace!.key).toMatch(/^\d{5}$/);
    expect(trace!.factAt).toBeGreaterThan(0);
  });
});
