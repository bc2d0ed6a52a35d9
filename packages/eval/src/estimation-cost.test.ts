import { compileRecipe, createReferenceBackend, randomHeadTensor } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { testRegistry } from '../test/helpers.js';
import { estimationCost, type Timing } from './estimation-cost.js';

describe('estimationCost', () => {
  const q = randomHeadTensor({ heads: 2, length: 40, dim: 8, seed: 1 });
  const k = randomHeadTensor({ heads: 1, length: 40, dim: 8, seed: 2 });
  const shape = resolveAttentionShape({ q, k, v: k });
  const backend = createReferenceBackend();
  // A timer that runs the build three times and reports fixed times: the fields come from it unchanged.
  let calls = 0;
  const measure = async (fn: () => Promise<void>): Promise<Timing> => {
    for (let r = 0; r < 3; r++) await fn();
    calls += 3;
    return { medianMs: 5, minMs: 4, maxMs: 9, runs: 3 };
  };

  it('times the mask build with the caller’s timer and reports its FLOPs, density and share of dense time', async () => {
    const recipe = compileRecipe({ blockQ: 1, blockK: 1, default: { method: 'exact-top-k', params: { topK: 4 } } }, testRegistry);
    const cost = await estimationCost(recipe, { input: { q, k }, shape, backend, measure, denseMs: 50 });
    expect(calls).toBe(3);
    expect(cost).toMatchObject({ medianMs: 5, minMs: 4, maxMs: 9, runs: 3, fractionOfDense: 0.1 });
    // exact-top-k counts 2·d FLOPs per (query head, row, key): 2·8·40·40·2 = 51,200; dense causal attention does 4·d
    // per causal pair: 4·8·820·2 = 52,480.
    expect(cost.estimateFlops).toBe(51_200);
    expect(cost.estimateFlopsOfDense).toBeCloseTo(51_200 / 52_480, 12);
    // Rows 0–2 keep every causal key (1, 2, 3), later rows 4 of their i + 1: (1 + 2 + 3 + 4·37) / 820 per head.
    expect(cost.density).toBeCloseTo((1 + 2 + 3 + 4 * 37) / 820, 12);
    expect(cost.note).toBe('10.0% of dense time, 97.56% of dense FLOPs');
  });

  it('a pattern costs no estimation FLOPs and keeps its own density', async () => {
    const recipe = compileRecipe({ default: { method: 'window', params: { window: 8 } } }, testRegistry);
    const cost = await estimationCost(recipe, { input: { q, k }, shape, backend, measure, denseMs: 10 });
    expect(cost.estimateFlops).toBe(0);
    expect(cost.density).toBeCloseTo((36 + 32 * 8) / 820, 12);
  });
});
