import { plantedInputs } from '@sparseland/conformance';
import {
  attention,
  compileRecipe,
  createHeadTensor,
  createRegistry,
  parseRecipe,
  randomHeadTensor,
  SparselandError,
  sparseMaskToDense,
} from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { estimators } from '../all.js';
import { defaultCandidates } from './candidates.js';
import { searchRecipe } from './search-recipe.js';

const registry = createRegistry({ plugins: [estimators] });

/** Layer 0: planted structure; layer 1: uniform attention on head 0 (nothing to gain), planted on head 1. */
function traces() {
  const planted = plantedInputs({ qHeads: 2, kvHeads: 1, qLength: 128, kvLength: 128, dim: 32 }, 4);
  const flat = { ...planted, q: createHeadTensor(2, 128, 32) };
  flat.q.data.set(planted.q.data.subarray(128 * 32), 128 * 32);
  return [
    { layer: 0, ...planted },
    { layer: 1, ...flat },
  ];
}

const candidates = [
  { method: 'block-topk', params: { topK: 1 } },
  { method: 'block-topk', params: { topK: 2 } },
  { method: 'block-topk', params: { topK: 4 } },
  { method: 'vertical-slash', params: { vertical: 30, slash: 50, localDiagonals: 4 } },
  { method: 'dense' },
];

describe('searchRecipe', () => {
  it('picks per head the candidates that maximise recall within the mean-density budget, and writes a loadable recipe', async () => {
    const result = await searchRecipe({ traces: traces(), candidates, budget: 0.4, registry, blockQ: 16, blockK: 16 });
    expect(result.summary.density).toBeLessThanOrEqual(0.4 + 1e-9);
    expect(result.heads).toHaveLength(4);
    // Planted heads are cheap to cover; the uniform head (layer 1, head 0) is not, whatever it gets.
    for (const h of result.heads) {
      if (h.layer === 1 && h.head === 0) expect(h.point.recall).toBeLessThan(0.6);
      else expect(h.point.recall).toBeGreaterThan(0.75);
    }
    // The recipe document is valid, compiles, and its per-head masks are the chosen candidates' masks.
    const doc = parseRecipe(result.recipe);
    expect(doc.blockQ).toBe(16);
    const compiled = compileRecipe(result.recipe, registry);
    for (const item of traces()) {
      const run = await attention(item, { recipe: compiled, layer: item.layer });
      for (const choice of result.heads.filter((h) => h.layer === item.layer)) {
        const single = await attention(item, { recipe: { blockQ: 16, blockK: 16, default: choice.recipe }, registry, layer: item.layer });
        const shape = { heads: 2, qLength: 128, kvLength: 128, qOffset: 0 };
        const all = run.mask ? sparseMaskToDense(run.mask, shape, { causal: true }) : undefined;
        const own = single.mask ? sparseMaskToDense(single.mask, shape, { causal: true }) : undefined;
        const slice = (d: Uint8Array | undefined) =>
          d ? Array.from(d.subarray(choice.head * 128 * 128, (choice.head + 1) * 128 * 128)) : 'dense';
        expect(slice(all)).toEqual(slice(own));
      }
    }
  });

  it('beats the best single candidate used on every head at the same budget, on its calibration data', async () => {
    const result = await searchRecipe({ traces: traces(), candidates, budget: 0.3, registry, blockQ: 16, blockK: 16 });
    for (let c = 0; c < candidates.length; c++) {
      const points = [...result.points.values()].flat().map((perHead) => perHead[c]);
      const density = points.reduce((a, p) => a + (p?.density ?? 0), 0) / points.length;
      const recall = points.reduce((a, p) => a + (p?.recall ?? 0), 0) / points.length;
      if (density <= result.summary.density + 1e-9) expect(result.summary.recall).toBeGreaterThanOrEqual(recall - 1e-12);
    }
  });

  it('optimises output error when asked, and rejects impossible budgets and unknown methods', async () => {
    const result = await searchRecipe({
      traces: traces(),
      candidates,
      budget: 0.5,
      registry,
      blockQ: 16,
      blockK: 16,
      objective: 'output-error',
      cost: 'flops',
    });
    expect(Number.isFinite(result.summary.outputError)).toBe(true);
    expect(result.summary.cost).toBeLessThanOrEqual(0.5 + 1e-9);
    await expect(searchRecipe({ traces: traces(), candidates: [{ method: 'dense' }], budget: 0.5, registry })).rejects.toThrow(
      /cheapest candidates/,
    );
    await expect(searchRecipe({ traces: traces(), candidates: [{ method: 'nope' }], budget: 0.5, registry })).rejects.toThrow(
      SparselandError,
    );
    await expect(searchRecipe({ traces: [], candidates, budget: 0.5, registry })).rejects.toThrow(/no calibration item/);
  });

  it('accepts a workload ({items}) and a model trace ({layers}), and its default grid spans sparse to dense', async () => {
    const q = randomHeadTensor({ heads: 2, length: 64, dim: 8, seed: 1 });
    const item = { layer: 0, q, k: q, v: q };
    const grid = defaultCandidates(64);
    expect(grid.some((c) => c.method === 'dense')).toBe(true);
    for (const traces of [{ items: [item] }, { layers: [item] }]) {
      const result = await searchRecipe({ traces, candidates: grid, budget: 0.5, registry, blockQ: 8, blockK: 8, rows: 16 });
      expect(result.heads).toHaveLength(2);
    }
  });
});
