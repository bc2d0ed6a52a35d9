import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { attention } from './attention.js';
import { LIMITS } from './limits.js';
import { definePattern } from './plugins/define.js';
import { createRegistry } from './plugins/registry.js';
import { compileRecipe } from './recipes/compile.js';
import { parseRecipe } from './recipes/schema.js';
import { referenceAttention } from './reference/reference-attention.js';
import { createHeadTensor, randomHeadTensor } from './tensor/head-tensor.js';

// Every size a user controls has a stated limit (LIMITS), and every bad option is refused with a coded error
// before any work or allocation: the defects a hostile-input probe found, one test each.

const input = (qLength = 8, kvLength = 8, dim = 4) => ({
  q: randomHeadTensor({ heads: 2, length: qLength, dim, seed: 1 }),
  k: randomHeadTensor({ heads: 1, length: kvLength, dim, seed: 2 }),
  v: randomHeadTensor({ heads: 1, length: kvLength, dim, seed: 3 }),
});

const firstColumn = definePattern({
  name: 'first-column',
  summary: 'Keeps key 0 for every query (a test pattern).',
  params: z.object({}).strict(),
  build: () => ({ causal: true, maskMod: () => (_h, _q, k) => k === 0 }),
});
const registry = createRegistry({ plugins: [firstColumn] });
const method = { method: 'first-column' };

function nested(depth: number): unknown {
  let node: unknown = method;
  for (let i = 0; i < depth; i++) node = { union: [node] };
  return node;
}

describe('tensor sizes', () => {
  it('refuses a tensor past LIMITS before allocating it', () => {
    expect(() => createHeadTensor(1, 1e9, 64)).toThrow(/E_SHAPE.*limits/);
    expect(() => createHeadTensor(LIMITS.heads + 1, 1, 1)).toThrow(/E_SHAPE/);
    expect(() => createHeadTensor(1, 1, LIMITS.dim + 1)).toThrow(/E_SHAPE/);
    expect(() => createHeadTensor(1, 4, 4)).not.toThrow();
  });

  it('refuses causal query rows that pass the last key (qOffset + qLength > kvLength); non-causal calls may', async () => {
    const x = input(8, 8);
    await expect(attention({ ...x, qOffset: 1 })).rejects.toThrow(/E_SHAPE.*qOffset \+ qLength must be <= kvLength, got 1 \+ 8 > 8/);
    expect(() => referenceAttention({ ...x, qOffset: 3 })).toThrow(/E_SHAPE/);
    await expect(attention({ ...x, qOffset: 0 })).resolves.toBeDefined();
    // Cross-attention: more queries than keys, positions only matter to masks.
    await expect(attention(input(16, 4), { causal: false })).resolves.toBeDefined();
    await expect(attention({ ...x, qOffset: 5 }, { causal: false })).resolves.toBeDefined();
  });
});

describe('attention() options', () => {
  it('refuses unknown options with the closest name', async () => {
    await expect(attention(input(), { casual: false } as never)).rejects.toThrow(/E_PARAMS.*"casual".*did you mean "causal"/);
  });

  it('refuses non-boolean flags instead of reading them as truthy', async () => {
    await expect(attention(input(), { causal: 'no' as never })).rejects.toThrow(/E_PARAMS.*causal must be true or false, got "no"/);
    await expect(attention(input(), { returnStats: 0 as never })).rejects.toThrow(/E_PARAMS/);
  });

  it('refuses seeds that >>> 0 would fold (NaN, fractions, 2^32) and accepts 2^32 - 1', async () => {
    for (const seed of [Number.NaN, 1.5, 2 ** 32, -1]) {
      await expect(attention(input(), { seed })).rejects.toThrow(/E_PARAMS.*seed/);
    }
    await expect(attention(input(), { seed: 2 ** 32 - 1 })).resolves.toBeDefined();
    expect(() => randomHeadTensor({ heads: 1, length: 1, dim: 1, seed: 0.5 })).toThrow(/E_PARAMS/);
  });

  it('refuses a backend that is not one, a scoreMod that is not a function, and layers past the limit', async () => {
    await expect(attention(input(), { backend: {} as never })).rejects.toThrow(/E_PARAMS.*backend must be a Backend.*without attend/);
    await expect(attention(input(), { scoreMod: 3 as never })).rejects.toThrow(/E_PARAMS.*scoreMod must be a function/);
    await expect(attention(input(), { layer: LIMITS.layers })).rejects.toThrow(/E_PARAMS.*layer/);
  });
});

describe('the finiteness rule', () => {
  it('refuses finite inputs so large that a float32 logit or output would overflow', async () => {
    const x = input();
    x.q.data[0] = 3e38;
    x.k.data.fill(3e38);
    await expect(attention(x)).rejects.toThrow(/E_NONFINITE.*too large for float32/);
    const y = input();
    y.v.data[5] = 1e35;
    await expect(attention(y)).rejects.toThrow(/E_NONFINITE/);
    const z2 = input();
    z2.k.data[3] = Number.NaN;
    await expect(attention(z2)).rejects.toThrow(/E_NONFINITE.*k must be finite, got NaN/);
  });

  it('a scoreMod may return -Infinity (drops the pair) but not NaN or +Infinity', async () => {
    const x = input();
    const dropOdd = (s: number, _h: number, _q: number, k: number) => (k % 2 === 1 ? -Infinity : s);
    const dropped = await attention(x, { scoreMod: dropOdd });
    const masked = await attention(x, { mask: (_h, _q, k) => k % 2 === 0 });
    expect(Array.from(dropped.output.data)).toEqual(Array.from(masked.output.data));
    await expect(attention(x, { scoreMod: (s, _h, _q, k) => (k === 2 ? Number.NaN : s) })).rejects.toThrow(
      /E_NONFINITE.*scoreMod must return a finite number or -Infinity.*key 2/,
    );
    await expect(attention(x, { scoreMod: (s, _h, _q, k) => (k === 1 ? Infinity : s) })).rejects.toThrow(/E_NONFINITE/);
  });
});

describe('recipe limits', () => {
  it('refuses union / intersect nested past LIMITS.recipeDepth with E_RECIPE, not a stack overflow', () => {
    expect(() => parseRecipe(nested(LIMITS.recipeDepth))).not.toThrow();
    expect(() => parseRecipe(nested(LIMITS.recipeDepth + 1))).toThrow(/E_RECIPE.*nest at most/);
    expect(() => parseRecipe(nested(5000))).toThrow(/E_RECIPE/);
    const deepText = `${'{"union":['.repeat(5000)}{"method":"first-column"}${']}'.repeat(5000)}`;
    expect(() => parseRecipe(deepText)).toThrow(/E_RECIPE/);
  });

  it('refuses recipes with more masks than LIMITS.recipeNodes and runs wide ones below it', async () => {
    const wide = { union: Array.from({ length: LIMITS.recipeNodes + 1 }, () => method) };
    expect(() => parseRecipe(wide)).toThrow(/E_RECIPE.*at most 16384 masks/);
    const ok = compileRecipe({ union: Array.from({ length: 5000 }, () => method) }, registry);
    const result = await attention(input(), { recipe: ok });
    expect(result.stats.density).toBeGreaterThan(0);
  });

  it('refuses layer and head keys past the limits (no collisions past 2^53)', () => {
    expect(() => parseRecipe({ default: method, layers: { '9007199254740993': method } })).toThrow(/E_RECIPE.*layers\.9007199254740993/);
    expect(() => parseRecipe({ default: method, layers: { [String(LIMITS.layers)]: method } })).toThrow(/E_RECIPE/);
    expect(() => parseRecipe({ default: method, layers: { 0: { heads: { [String(LIMITS.heads)]: method } } } })).toThrow(/E_RECIPE/);
    expect(() => parseRecipe({ default: method, layers: { [String(LIMITS.layers - 1)]: method } })).not.toThrow();
  });

  it('refuses "__proto__" keys anywhere, as it refuses other unknown keys', () => {
    expect(() => parseRecipe('{"default": {"method": "first-column"}, "layers": {"__proto__": {"method": "x"}}}')).toThrow(
      /E_RECIPE.*layers\.__proto__/,
    );
    expect(() => parseRecipe('{"method": "first-column", "params": {"__proto__": {"polluted": true}}}')).toThrow(
      /E_RECIPE.*params\.__proto__/,
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(() => parseRecipe('{"method": "first-column", "constructor": 1}')).toThrow(/E_RECIPE/);
  });
});
