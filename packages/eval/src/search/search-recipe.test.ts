import {
  attention,
  compileRecipe,
  createHeadTensor,
  createReferenceBackend,
  parseRecipe,
  randomHeadTensor,
  SparselandError,
  sparseMaskToDense,
} from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { testRegistry as registry } from '../../test/helpers.js';
import { evaluateMethods } from '../evaluate.js';
import { syntheticWorkload } from '../workloads/synthetic.js';
import { collectItems } from '../workloads/workload.js';
import { defaultCandidates } from './candidates.js';
import { searchRecipe } from './search-recipe.js';

const N = 128;

/** Layer 0: planted sinks, band and columns on both heads; layer 1: head 0 attends uniformly (q = 0), head 1 planted. */
async function traces() {
  const [planted] = await collectItems(
    syntheticWorkload({ n: N, heads: 2, kvHeads: 1, dim: 16, seed: 3, structure: { band: 8, needles: 0, slashes: 0 } }),
  );
  const item = planted!;
  const flat = createHeadTensor(2, N, 16);
  flat.data.set(item.q.data.subarray(N * 16), N * 16);
  return [
    { layer: 0, q: item.q, k: item.k, v: item.v },
    { layer: 1, q: flat, k: item.k, v: item.v },
  ];
}

const candidates = [
  { method: 'window', params: { window: 4 } },
  { method: 'window', params: { window: 16 } },
  { method: 'exact-top-k', params: { topK: 4 } },
  { method: 'exact-top-k', params: { topK: 16 } },
  { method: 'dense' },
];

describe('searchRecipe', () => {
  it('picks per head the candidates that maximise recall within the mean-density budget, and writes a loadable recipe', async () => {
    const items = await traces();
    const result = await searchRecipe({ traces: items, candidates, budget: 0.3, registry, blockQ: 16, blockK: 16 });
    expect(result.summary.density).toBeLessThanOrEqual(0.3 + 1e-9);
    expect(result.heads).toHaveLength(4);
    // Planted heads are cheap to cover with the exact top-k; the uniform head (layer 1, head 0) is not, whatever it gets.
    for (const h of result.heads) {
      if (h.layer === 1 && h.head === 0) expect(h.point.recall).toBeLessThan(0.6);
      else expect(h.point.recall).toBeGreaterThan(0.8);
    }
    // The recipe document is valid, compiles, and its per-head masks are the chosen candidates' masks.
    expect(parseRecipe(result.recipe).blockQ).toBe(16);
    const compiled = compileRecipe(result.recipe, registry);
    const shape = { heads: 2, qLength: N, kvLength: N, qOffset: 0 };
    for (const item of items) {
      const run = await attention(item, { recipe: compiled, layer: item.layer });
      for (const choice of result.heads.filter((h) => h.layer === item.layer)) {
        const single = await attention(item, { recipe: { blockQ: 16, blockK: 16, default: choice.recipe }, registry, layer: item.layer });
        const slice = (mask: typeof run.mask) =>
          mask
            ? Array.from(sparseMaskToDense(mask, shape, { causal: true }).subarray(choice.head * N * N, (choice.head + 1) * N * N))
            : 'dense';
        expect(slice(run.mask)).toEqual(slice(single.mask));
      }
    }
  });

  it('beats the best single candidate used on every head at the same budget, on its calibration data', async () => {
    const result = await searchRecipe({ traces: await traces(), candidates, budget: 0.2, registry, blockQ: 16, blockK: 16 });
    for (let c = 0; c < candidates.length; c++) {
      const points = [...result.points.values()].flat().map((perHead) => perHead[c]);
      const density = points.reduce((a, p) => a + (p?.density ?? 0), 0) / points.length;
      const recall = points.reduce((a, p) => a + (p?.recall ?? 0), 0) / points.length;
      if (density <= result.summary.density + 1e-9) expect(result.summary.recall).toBeGreaterThanOrEqual(recall - 1e-12);
    }
  });

  it('measures each candidate exactly as evaluateMethods does (one oracle, one set of per-item metrics)', async () => {
    const items = await traces();
    const result = await searchRecipe({ traces: items, candidates, budget: 1, registry, blockQ: 16, blockK: 16, rows: N });
    const report = await evaluateMethods({
      methods: candidates.map((c, i) => ({ label: `c${i}`, recipe: { blockQ: 16, blockK: 16, default: c } })),
      workloads: [{ name: 'calibration', description: 'the search traces', items }],
      registry,
      backend: createReferenceBackend(),
      recallRows: 'all',
    });
    for (const [c] of candidates.entries()) {
      const heads = report.results.find((r) => r.method === `c${c}`)?.heads ?? [];
      expect(heads).toHaveLength(4);
      for (const h of heads) {
        const point = result.points.get(h.layer)?.[h.head]?.[c];
        expect(point?.density).toBe(h.density);
        expect(point?.recall).toBe(h.recallMean);
      }
    }
  });

  it('optimises output error when asked, and rejects impossible budgets, unknown methods and empty traces', async () => {
    const result = await searchRecipe({
      traces: await traces(),
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
    await expect(searchRecipe({ traces: await traces(), candidates: [{ method: 'dense' }], budget: 0.5, registry })).rejects.toThrow(
      /E_BUDGET.*cheapest candidates/,
    );
    const unknown = searchRecipe({ traces: await traces(), candidates: [{ method: 'nope' }], budget: 0.5, registry });
    await expect(unknown).rejects.toThrow(SparselandError);
    // The method's error is wrapped once: one code prefix, the candidate named, the registry's details kept.
    await expect(unknown).rejects.toMatchObject({
      code: 'E_UNKNOWN_PLUGIN',
      message: expect.stringMatching(/^\[E_UNKNOWN_PLUGIN\] searchRecipe: candidate 0 \(method "nope"\): [^[]*"nope"/),
      details: expect.objectContaining({ method: 'nope' }),
    });
    await expect(searchRecipe({ traces: [], candidates, budget: 0.5, registry })).rejects.toThrow(/no calibration item/);
  });

  it('accepts a workload ({items}) and a model trace ({layers})', async () => {
    const q = randomHeadTensor({ heads: 2, length: 64, dim: 8, seed: 1 });
    const item = { layer: 0, q, k: q, v: q };
    for (const source of [{ items: [item] }, { layers: [item] }]) {
      const result = await searchRecipe({ traces: source, candidates, budget: 0.5, registry, blockQ: 8, blockK: 8, rows: 16 });
      expect(result.heads).toHaveLength(2);
    }
  });
});

describe('defaultCandidates', () => {
  it('spans sparse to dense, keeps vertical-slash at or above MInference’s floor, and lists each candidate once', () => {
    for (const length of [64, 512, 2048, 32_768]) {
      const grid = defaultCandidates(length);
      expect(grid.at(-1)).toEqual({ method: 'dense' });
      expect(new Set(grid.map((c) => JSON.stringify(c))).size).toBe(grid.length);
      for (const c of grid.filter((c) => c.method === 'vertical-slash')) {
        expect(c.params?.['vertical']).toBeGreaterThanOrEqual(30);
        expect(c.params?.['slash']).toBeGreaterThanOrEqual(50);
      }
    }
    // At 2,048 positions: 30 or 128 columns × 50 (32 raised to the floor), 64, 128, 256 or 512 diagonals.
    expect(
      defaultCandidates(2048)
        .filter((c) => c.method === 'vertical-slash')
        .map((c) => `${c.params?.['vertical']}/${c.params?.['slash']}`),
    ).toEqual(['30/50', '128/50', '30/64', '128/64', '30/128', '128/128', '30/256', '128/256', '30/512', '128/512']);
  });
});
