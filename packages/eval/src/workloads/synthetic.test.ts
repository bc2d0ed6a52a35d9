import { type AttentionInput, isSparselandError } from '@sparseland/core';
import { referenceRowProbabilities, resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { syntheticWorkload } from './synthetic.js';
import { collectItems } from './workload.js';

function rowProbabilities(input: AttentionInput, h: number, i: number): Float64Array {
  const shape = resolveAttentionShape(input);
  const out = new Float64Array(shape.kvLength);
  referenceRowProbabilities(input, shape, h, i, { causal: true, scale: 1 / Math.sqrt(shape.dim) }, out);
  return out;
}

describe('syntheticWorkload', () => {
  it('is seeded: the same options give the same tensors, another seed different ones', async () => {
    const a = await collectItems(syntheticWorkload({ n: 300, seed: 5, heads: 4, kvHeads: 2, dim: 32 }));
    const b = await collectItems(syntheticWorkload({ n: 300, seed: 5, heads: 4, kvHeads: 2, dim: 32 }));
    const c = await collectItems(syntheticWorkload({ n: 300, seed: 6, heads: 4, kvHeads: 2, dim: 32 }));
    expect(a[0]!.q.data).toEqual(b[0]!.q.data);
    expect(a[0]!.k.data).toEqual(b[0]!.k.data);
    expect(a[0]!.needles).toEqual(b[0]!.needles);
    expect(a[0]!.q.data).not.toEqual(c[0]!.q.data);
  });

  it('makes GQA tensors of odd length and valid needles, one item per sample, lazily and re-iterably', async () => {
    const workload = syntheticWorkload({ n: 777, seed: 1, heads: 6, kvHeads: 3, dim: 24, samples: 2, structure: { band: 32, needles: 3 } });
    expect(workload.name).toBe('synthetic:777');
    expect(workload.size).toBe(2);
    const items = await collectItems(workload);
    expect(items).toHaveLength(2);
    expect((await collectItems(workload))[1]!.q.data).toEqual(items[1]!.q.data);
    const [item] = items;
    expect([item!.q.heads, item!.q.length, item!.q.dim]).toEqual([6, 777, 24]);
    expect([item!.k.heads, item!.v.heads]).toEqual([3, 3]);
    expect(item!.needles).toHaveLength(6 * 3);
    for (const n of item!.needles!) {
      expect(n.qRow).toBeGreaterThanOrEqual(777 / 2 - 1);
      expect(n.key).toBeGreaterThanOrEqual(4);
      expect(n.key).toBeLessThan(n.qRow - 32);
    }
    expect(syntheticWorkload({ n: 32768, seed: 0 }).name).toBe('synthetic:32k');
  });

  it('puts needle queries in the last rows when asked (a question at the end of the prompt), other tensors unchanged', async () => {
    const options = { n: 1000, seed: 2, heads: 4, kvHeads: 2, dim: 64 };
    const [tail] = await collectItems(syntheticWorkload({ ...options, needleWindow: 64 }));
    const [spread] = await collectItems(syntheticWorkload(options));
    expect(tail!.needles).toHaveLength(16);
    for (const needle of tail!.needles!) {
      expect(needle.qRow).toBeGreaterThanOrEqual(1000 - 64);
      expect(rowProbabilities(tail!, needle.head, needle.qRow)[needle.key]).toBeGreaterThan(0.5);
    }
    expect(spread!.needles!.some((n) => n.qRow < 1000 - 64)).toBe(true);
    expect(tail!.v.data).toEqual(spread!.v.data);
    expect(syntheticWorkload({ ...options, needleWindow: 64 }).description).toMatch(/last 64 rows/);
    expect(() => syntheticWorkload({ ...options, needleWindow: 2 })).toThrow(/needleWindow/);
  });

  it('plants needles that carry most of their row’s mass', async () => {
    for (const n of [1000, 4096]) {
      const [item] = await collectItems(syntheticWorkload({ n, seed: 11, heads: 4, kvHeads: 2, dim: 64 }));
      for (const needle of item!.needles!) {
        const p = rowProbabilities(item!, needle.head, needle.qRow);
        expect(p[needle.key]).toBeGreaterThan(0.5);
      }
    }
  });

  it('is sparse: a few percent of the keys carry most of a row’s mass, and not only the local ones', async () => {
    const n = 2048;
    const [item] = await collectItems(syntheticWorkload({ n, seed: 3, heads: 4, kvHeads: 2, dim: 64, structure: { needles: 0 } }));
    let top = 0;
    let local = 0;
    let rows = 0;
    for (let h = 0; h < 4; h++) {
      for (let i = 1024; i < n; i += 97) {
        const p = Array.from(rowProbabilities(item!, h, i));
        const sorted = [...p].sort((a, b) => b - a);
        top += sorted.slice(0, Math.ceil(0.05 * (i + 1))).reduce((a, b) => a + b, 0);
        local += p.slice(i - 63, i + 1).reduce((a, b) => a + b, 0);
        rows++;
      }
    }
    expect(top / rows).toBeGreaterThan(0.65);
    // Sinks, verticals and slashes put a good part of the mass outside the local band.
    expect(local / rows).toBeLessThan(0.7);
    expect(local / rows).toBeGreaterThan(0.05);
  });

  it('rejects bad options with E_PARAMS saying what was expected', () => {
    const expectParams = (f: () => unknown, message: RegExp) => {
      try {
        f();
        expect.unreachable();
      } catch (error) {
        expect(isSparselandError(error, 'E_PARAMS')).toBe(true);
        expect((error as Error).message).toMatch(message);
      }
    };
    expectParams(() => syntheticWorkload({ n: 8, seed: 0 }), /n must be an integer in \[16, 131072\], got 8/);
    expectParams(() => syntheticWorkload({ n: 256, seed: 0, heads: 6, kvHeads: 4 }), /multiple of kvHeads/);
    expectParams(() => syntheticWorkload({ n: 256, seed: 0, dim: 16, heads: 8, kvHeads: 2 }), /at most 1 needles per query head/);
    expectParams(() => syntheticWorkload({ n: 256, seed: 0, dim: 4 }), /dim must be an integer in \[8, 1024\]/);
    expectParams(() => syntheticWorkload({ n: 100, seed: 0, structure: { band: 64 } }), /needles need room/);
  });
});
