import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { attention } from '../attention.js';
import { buildBlockMask } from '../masks/build-block-mask.js';
import { ColumnMask } from '../masks/column-mask.js';
import { sparseMaskToDense } from '../masks/sparse-mask.js';
import { defineEstimator, definePattern } from '../plugins/define.js';
import { createRegistry } from '../plugins/registry.js';
import { createReferenceBackend } from '../reference/reference-backend.js';
import { randomHeadTensor } from '../tensor/head-tensor.js';
import { compileRecipe } from './compile.js';
import { parseRecipe } from './schema.js';

const band = definePattern({
  name: 'band',
  summary: 'Keeps the last `width` keys.',
  params: z.object({ width: z.number().int().min(1).default(2) }).strict(),
  build: ({ width }) => ({ causal: true, maskMod: () => (_h, q, k) => k <= q && q - k < width }),
});
const firstColumn = defineEstimator({
  name: 'first-column',
  summary: 'Keeps key `column` for every query (a toy estimator that uses the backend).',
  params: z.object({ column: z.number().int().min(0).default(0) }).strict(),
  build:
    ({ column }) =>
    async (input, ctx) => {
      await ctx.backend.pooledScores(input, { blockQ: ctx.blockQ, blockK: ctx.blockK });
      ctx.cost.add(1000, 'estimate');
      return { columns: ColumnMask.build(input.shape, ctx.blockQ, { heads: 1 }, (_h, _qb, out) => out.push(column)) };
    },
});
const bias = definePattern({
  name: 'bias',
  summary: 'Adds a per-head linear distance bias (ALiBi-like) and keeps every pair.',
  params: z.object({}).strict(),
  build: () => ({ causal: false, scoreMod: () => (s, h, q, k) => s - (h + 1) * 0.1 * (q - k) }),
});
const registry = createRegistry({ plugins: [band, firstColumn, bias] });
const shape = { heads: 4, kvHeads: 2, qLength: 12, kvLength: 12, dim: 8, qOffset: 0 };
const input = {
  q: randomHeadTensor({ heads: 4, length: 12, dim: 8, seed: 1 }),
  k: randomHeadTensor({ heads: 2, length: 12, dim: 8, seed: 2 }),
  v: randomHeadTensor({ heads: 2, length: 12, dim: 8, seed: 3 }),
};

async function denseOfRecipe(recipe: unknown, layer = 0): Promise<Uint8Array | 'dense'> {
  const compiled = compileRecipe(recipe as never, registry);
  const backend = createReferenceBackend();
  const { createCostMeter } = await import('../cost.js');
  const built = await compiled.build({
    input: { q: input.q, k: input.k, shape, causal: true },
    backend,
    cost: createCostMeter(),
    seed: 0,
    layer,
  });
  return built.mask === 'dense' ? 'dense' : sparseMaskToDense(built.mask, shape, { causal: true });
}

describe('parseRecipe', () => {
  it('normalises a bare mask to a document', () => {
    expect(parseRecipe({ method: 'band' })).toEqual({ default: { method: 'band' } });
    expect(parseRecipe('{"union": [{"method": "band"}, {"method": "dense"}]}').default).toEqual({
      union: [{ method: 'band' }, { method: 'dense' }],
    });
  });

  it('names the JSON path of structural errors', () => {
    expect(() => parseRecipe('{"method": ')).toThrow(/E_RECIPE.*not valid JSON/);
    expect(() => parseRecipe({ default: { method: 'band' }, layers: { 3: { heads: { 5: { method: 'band', parms: {} } } } } })).toThrow(
      /E_RECIPE.*layers\.3\.heads\.5.*parms/,
    );
    expect(() => parseRecipe({ default: { method: 'band' }, layers: { x: { method: 'band' } } })).toThrow(
      /E_RECIPE.*layers\.x.*integer indices/,
    );
    expect(() => parseRecipe({ union: [] })).toThrow(/E_RECIPE.*union.*at least one/);
    expect(() => parseRecipe({ methd: 'band' })).toThrow(/E_RECIPE.*"method", "union" or "intersect".*methd/);
    expect(() => parseRecipe(42)).toThrow(/E_RECIPE.*\(root\).*got 42/);
  });
});

describe('compileRecipe', () => {
  it('checks method names and params against the registry, naming the path', () => {
    expect(() => compileRecipe({ method: 'bnad' }, registry)).toThrow(
      /E_UNKNOWN_PLUGIN.*method: unknown method "bnad". Did you mean "band"/,
    );
    expect(() =>
      compileRecipe({ default: { method: 'band' }, layers: { 3: { heads: { 5: { method: 'band', params: { width: 0 } } } } } }, registry),
    ).toThrow(/E_PARAMS.*layers\.3\.heads\.5\.params\.width.*>=1/);
    expect(() => compileRecipe({ method: 'dense', params: { x: 1 } }, registry)).toThrow(/E_RECIPE.*dense method takes no params/);
  });

  it('builds unions, intersections, per-layer and per-head overrides', async () => {
    const union = await denseOfRecipe({
      union: [
        { method: 'band', params: { width: 2 } },
        { method: 'first-column', params: { column: 5 } },
      ],
    });
    const expected = (_h: number, q: number, k: number) => k <= q && (q - k < 2 || k === 5);
    const check = (d: Uint8Array | 'dense', fn: (h: number, q: number, k: number) => boolean) => {
      if (d === 'dense') throw new Error('expected a mask');
      for (let h = 0; h < 4; h++)
        for (let q = 0; q < 12; q++) for (let k = 0; k < 12; k++) expect(d[(h * 12 + q) * 12 + k]).toBe(fn(h, q, k) ? 1 : 0);
    };
    check(union, expected);
    check(
      await denseOfRecipe({
        intersect: [
          { method: 'band', params: { width: 4 } },
          { method: 'first-column', params: { column: 9 } },
        ],
      }),
      (_h, q, k) => k === 9 && q - k < 4 && k <= q,
    );
    const doc = {
      default: { method: 'band', params: { width: 1 } },
      layers: { 1: { default: { method: 'band', params: { width: 3 } }, heads: { 2: { method: 'dense' } } } },
    };
    check(await denseOfRecipe(doc, 0), (_h, q, k) => k === q);
    check(await denseOfRecipe(doc, 1), (h, q, k) => k <= q && (h === 2 || q - k < 3));
    expect(await denseOfRecipe({ union: [{ method: 'band' }, { method: 'dense' }] })).toBe('dense');
  });
});

describe('attention()', () => {
  it('runs a recipe end to end and reports density, FLOPs and times', async () => {
    const result = await attention(input, { recipe: { method: 'band', params: { width: 3 } }, registry });
    const total = (12 * 13) / 2;
    const kept = 12 + 11 + 10;
    expect(result.stats.density).toBeCloseTo(kept / total, 12);
    expect(result.stats.flops.attend).toBe(4 * 8 * kept * 4);
    expect(result.stats.estimateMs).toBeGreaterThanOrEqual(0);
    expect(result.output.heads).toBe(4);
  });

  it('counts estimator FLOPs as estimation', async () => {
    const result = await attention(input, { recipe: { method: 'first-column' }, registry, backend: createReferenceBackend() });
    expect(result.stats.flops.estimate).toBe(1000);
    expect(result.stats.flops.total).toBe(1000 + result.stats.flops.attend);
  });

  it('applies pattern score mods (static biases)', async () => {
    const viaRecipe = await attention(input, { recipe: { method: 'bias' }, registry });
    const direct = await attention(input, { scoreMod: (s, h, q, k) => s - (h + 1) * 0.1 * (q - k) });
    expect(Array.from(viaRecipe.output.data)).toEqual(Array.from(direct.output.data));
    expect(viaRecipe.stats.density).toBe(1);
  });

  it('takes a compiled recipe without a registry, and refuses a recipe without one', async () => {
    const compiled = compileRecipe({ method: 'band' }, registry);
    await expect(attention(input, { recipe: compiled })).resolves.toBeDefined();
    await expect(attention(input, { recipe: { method: 'band' } })).rejects.toThrow(/E_PARAMS.*registry/);
    await expect(attention(input, { recipe: { method: 'band' }, mask: () => true, registry })).rejects.toThrow(/either recipe or mask/);
  });
});

describe('output corrections', () => {
  const halving = defineEstimator({
    name: 'halving',
    summary: 'Keeps a band and halves the attention output afterwards (a toy correction).',
    params: z.object({}).strict(),
    build: () => async (input, ctx) => ({
      mask: { blocks: buildBlockMask(input.shape, ctx, { heads: 1 }, (_h, qb, full) => full.push(qb)) },
      correction: async (result, call, c) => {
        c.cost.add(7, 'estimate');
        expect(call.mask.blocks).toBeDefined();
        return { output: { ...result.output, data: result.output.data.map((x) => x / 2) }, lse: result.lse };
      },
    }),
  });
  const reg = createRegistry({ plugins: [band, halving] });

  it('attention() applies an estimator correction and counts its FLOPs as estimation', async () => {
    const plain = await attention(input, {
      recipe: { blockQ: 4, blockK: 4, default: { method: 'band', params: { width: 100 } } },
      registry: reg,
    });
    const corrected = await attention(input, { recipe: { blockQ: 4, blockK: 4, default: { method: 'halving' } }, registry: reg });
    const diag = await attention(input, {
      mask: {
        blocks: buildBlockMask(
          { heads: 4, qLength: 12, kvLength: 12, qOffset: 0 },
          { blockQ: 4, blockK: 4 },
          { heads: 1 },
          (_h, qb, full) => full.push(qb),
        ),
      },
    });
    expect(Array.from(corrected.output.data)).toEqual(Array.from(diag.output.data, (x) => Math.fround(x / 2)));
    expect(corrected.stats.flops.estimate).toBe(7);
    expect(plain.stats.flops.estimate).toBe(0);
  });

  it('in a per-head recipe the correction changes only the rows of its heads', async () => {
    const recipe = {
      blockQ: 4,
      blockK: 4,
      default: { method: 'band', params: { width: 100 } },
      layers: { 0: { heads: { 2: { method: 'halving' } } } },
    };
    const mixed = await attention(input, { recipe, registry: reg });
    const plain = await attention(input, {
      recipe: { blockQ: 4, blockK: 4, default: { method: 'band', params: { width: 100 } } },
      registry: reg,
    });
    const rows = 12 * 8;
    for (const h of [0, 1, 3]) {
      expect(Array.from(mixed.output.data.subarray(h * rows, (h + 1) * rows))).toEqual(
        Array.from(plain.output.data.subarray(h * rows, (h + 1) * rows)),
      );
    }
    const head2 = mixed.output.data.subarray(2 * rows, 3 * rows);
    expect(head2.some((x, i) => x !== plain.output.data[2 * rows + i])).toBe(true);
  });
});
