import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { attention } from './attention.js';
import { isSparselandError, SparselandError } from './errors.js';
import { definePattern } from './plugins/define.js';
import { createRegistry } from './plugins/registry.js';
import { createHeadTensor, headTensorFromArrays, randomHeadTensor, sliceHeads } from './tensor/head-tensor.js';

const q = randomHeadTensor({ heads: 4, length: 6, dim: 8, seed: 1 });
const k = randomHeadTensor({ heads: 2, length: 6, dim: 8, seed: 2 });
const v = randomHeadTensor({ heads: 2, length: 6, dim: 8, seed: 3 });

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (!isSparselandError(e)) throw e;
    return { code: e.code, message: e.message };
  }
  throw new Error('expected a SparselandError');
}

describe('bad input gets a SparselandError with a code and a useful message', () => {
  it('wrong shapes', async () => {
    const bad = await codeOf(attention({ q, k, v: randomHeadTensor({ heads: 2, length: 5, dim: 8, seed: 3 }) }));
    expect(bad.code).toBe('E_SHAPE');
    expect(bad.message).toMatch(/k and v must have the same heads and length, got k \[2, 6\] and v \[2, 5\]/);
    const dims = await codeOf(attention({ q: randomHeadTensor({ heads: 4, length: 6, dim: 4, seed: 1 }), k, v }));
    expect(dims.message).toMatch(/share the head dim, got q 4, k 8, v 8/);
    const notTensor = await codeOf(attention({ q: { data: [1, 2], heads: 1, length: 1, dim: 2 } as never, k, v }));
    expect(notTensor.code).toBe('E_SHAPE');
    expect(notTensor.message).toMatch(/q must be a HeadTensor.*data=an array of length 2/);
    expect(() => createHeadTensor(2, 3, 4, new Float32Array(5))).toThrow(/2·3·4 = 24 values, got 5/);
  });

  it('Hq not a multiple of Hkv', async () => {
    const bad = await codeOf(attention({ q: randomHeadTensor({ heads: 3, length: 6, dim: 8, seed: 1 }), k, v }));
    expect(bad.code).toBe('E_SHAPE');
    expect(bad.message).toMatch(/multiple of kv heads.*Hq = 3 and Hkv = 2/);
  });

  it('NaN in Q (and the opt-out for hot paths)', async () => {
    const nan = createHeadTensor(4, 6, 8, q.data.slice());
    nan.data[(2 * 6 + 3) * 8 + 5] = Number.NaN;
    const bad = await codeOf(attention({ q: nan, k, v }));
    expect(bad.code).toBe('E_NONFINITE');
    expect(bad.message).toMatch(/q must be finite, got NaN at head 2, position 3, channel 5/);
    await expect(attention({ q: nan, k, v }, { checkFinite: false })).resolves.toBeDefined();
  });

  it('unknown plugin and out-of-range params in a recipe', async () => {
    const band = definePattern({
      name: 'band',
      summary: 'A band.',
      params: z.object({ width: z.number().int().min(1).max(1024).default(8) }).strict(),
      build: ({ width }) => ({ causal: true, maskMod: () => (_h, qq, kk) => qq - kk < width }),
    });
    const registry = createRegistry({ plugins: [band] });
    const unknown = await codeOf(attention({ q, k, v }, { registry, recipe: { method: 'bandd' } }));
    expect(unknown.code).toBe('E_UNKNOWN_PLUGIN');
    expect(unknown.message).toMatch(/unknown method "bandd". Did you mean "band"\? Allowed: dense, band/);
    const range = await codeOf(attention({ q, k, v }, { registry, recipe: { method: 'band', params: { width: 5000 } } }));
    expect(range.code).toBe('E_PARAMS');
    expect(range.message).toMatch(/params\.width.*<=1024.*got 5000/);
  });

  it('malformed recipe JSON', async () => {
    const bad = await codeOf(attention({ q, k, v }, { registry: createRegistry({ plugins: [] }), recipe: '{"method": "band",' }));
    expect(bad.code).toBe('E_RECIPE');
    expect(bad.message).toMatch(/not valid JSON/);
  });

  it('bad scale, qOffset and layer', async () => {
    expect((await codeOf(attention({ q, k, v }, { scale: -1 }))).message).toMatch(/scale must be a finite number/);
    expect((await codeOf(attention({ q, k, v, qOffset: -2 }))).message).toMatch(/qOffset must be an integer >= 0.*got -2/);
    expect((await codeOf(attention({ q, k, v }, { layer: 1.5 }))).code).toBe('E_PARAMS');
  });

  it('SparselandError carries code and details', () => {
    const e = new SparselandError('E_BUDGET', 'too much', { budget: 3 });
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe('[E_BUDGET] too much');
    expect(e.details['budget']).toBe(3);
    expect(isSparselandError(e, 'E_SHAPE')).toBe(false);
  });
});

describe('HeadTensor helpers', () => {
  it('build from nested arrays, slice heads, and generate seeded data', () => {
    const t = headTensorFromArrays([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(sliceHeads(t, 1).data)).toEqual([5, 6, 7, 8]);
    expect(() => headTensorFromArrays([[[1, 2], [3]]])).toThrow(/row \[0\]\[1\] must have 2 values/);
    const a = randomHeadTensor({ heads: 1, length: 3, dim: 2, seed: 9 });
    const b = randomHeadTensor({ heads: 1, length: 3, dim: 2, seed: 9 });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(randomHeadTensor({ heads: 1, length: 3, dim: 2, seed: 10 }).data));
  });
});

describe('SparselandError', () => {
  it('keeps the coded message and gives the reason without the code, for wrapping in another message', () => {
    const error = new SparselandError('E_PARAMS', 'window must be >= 1, got 0', { what: 'window' });
    expect(error.message).toBe('[E_PARAMS] window must be >= 1, got 0');
    expect(error.reason).toBe('window must be >= 1, got 0');
    expect(error.code).toBe('E_PARAMS');
    expect(error.details).toEqual({ what: 'window' });
    // A reason that itself starts like a code is kept whole: nothing is parsed out of the message.
    expect(new SparselandError('E_SHAPE', '[E_PARAMS] nested').reason).toBe('[E_PARAMS] nested');
  });
});
