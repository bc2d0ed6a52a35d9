import { referenceRowProbabilities, resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { mqarWorkload } from './mqar.js';
import { collectItems } from './workload.js';

describe('mqarWorkload', () => {
  it('asks each key once and points every query row at the value of its key, which carries most of the mass', async () => {
    const [item] = await collectItems(mqarWorkload({ n: 515, pairs: 40, queries: 30, seed: 2, heads: 4, kvHeads: 2, dim: 64 }));
    const needles = item!.needles!;
    expect(needles).toHaveLength(30 * 4);
    const keysOfHead0 = needles.filter((n) => n.head === 0).map((n) => n.key);
    expect(new Set(keysOfHead0).size).toBe(30);
    const shape = resolveAttentionShape(item!);
    const p = new Float64Array(shape.kvLength);
    for (const n of needles) {
      expect(n.key % 2).toBe(1);
      expect(n.key).toBeLessThan(80);
      expect(n.qRow).toBeGreaterThanOrEqual(80);
      referenceRowProbabilities(item!, shape, n.head, n.qRow, { causal: true, scale: 1 / 8 }, p);
      expect(p[n.key]).toBeGreaterThan(0.5);
    }
  });

  it('validates its options', () => {
    expect(() => mqarWorkload({ n: 64, pairs: 40, seed: 0 })).toThrow(/E_PARAMS.*pairs must be an integer in \[1, 16\]/);
    expect(() => mqarWorkload({ n: 64, seed: -1 })).toThrow(/E_PARAMS.*seed/);
  });
});
