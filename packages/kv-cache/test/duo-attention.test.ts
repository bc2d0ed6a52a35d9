import { compileRecipe, createHeadTensor, createRegistry } from '@sparseland/core';
import type { KvPolicy } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { classifyHeads, duoAttention, duoRecipe, kvPolicies } from '../src/index.js';
import { drive, range } from './drive.js';

describe('duo-attention', () => {
  it('streaming heads keep sinks + recent, retrieval heads keep everything (a ragged cache)', () => {
    const shape = { qHeads: 6, kvHeads: 3, dim: 4, prompt: 50, steps: 6, layers: 2 };
    const params = { streamingHeads: [[0, 2], [1]], sink: 3, recent: 7 };
    const { records } = drive(duoAttention.build(duoAttention.parseParams(params)), shape);
    for (const r of records) {
      const n = shape.prompt + r.step;
      const streaming = [...range(0, 3), ...range(n - 7, n)];
      const want = r.layer === 0 ? [streaming, range(0, n), streaming] : [range(0, n), streaming, range(0, n)];
      expect({ layer: r.layer, step: r.step, held: r.held }).toEqual({ layer: r.layer, step: r.step, held: want });
    }
    expect(() => drive(duoAttention.build(duoAttention.parseParams({ streamingHeads: [[5]] })), { ...shape, steps: 0 })).toThrow(
      /E_PARAMS.*streamingHeads\[0\] names kv head 5, but the model has 3 kv heads/,
    );
  });

  it('duoRecipe writes the same split as a recipe that compiles against the kv-cache plugins and acts the same', () => {
    const shape = { qHeads: 6, kvHeads: 3, dim: 4, prompt: 50, steps: 4, layers: 2 };
    const recipe = duoRecipe([[0, 2], [1]], { sink: 3, recent: 7 });
    expect(recipe.layers?.['0']?.kvHeads?.['2']).toEqual({ method: 'streaming-llm', params: { budget: 10, sink: 3 } });
    const compiled = compileRecipe(JSON.parse(JSON.stringify(recipe)), createRegistry({ plugins: kvPolicies }));
    const viaRecipe = drive(compiled.kvPolicy as KvPolicy, shape).records.map((r) => r.held);
    const direct = drive(
      duoAttention.build(duoAttention.parseParams({ streamingHeads: [[0, 2], [1]], sink: 3, recent: 7 })),
      shape,
    ).records.map((r) => r.held);
    expect(viaRecipe).toEqual(direct);
  });

  it('classifyHeads ranks heads by the needle mass outside sink + recent; the lowest fraction streams', () => {
    // Two kv heads, one query head each: head 0 attends locally, head 1 retrieves position 2 (outside the window).
    const n = 40;
    const d = 4;
    const q = createHeadTensor(2, n, d);
    const k = createHeadTensor(2, n, d);
    for (let t = 0; t < n; t++) {
      k.data[(0 * n + t) * d] = t === n - 1 ? 3 : 0;
      k.data[(1 * n + t) * d + 1] = t === 2 ? 3 : 0;
      q.data[(0 * n + t) * d] = 3;
      q.data[(1 * n + t) * d + 1] = 3;
    }
    const trace = { layers: [{ q, k }], queryRows: [n - 1] };
    const result = classifyHeads([trace], { sink: 1, recent: 4, streamingFraction: 0.5 });
    expect(result.scores[0]![1]!).toBeGreaterThan(0.5);
    expect(result.scores[0]![0]!).toBeLessThan(0.5);
    expect(result.streamingHeads).toEqual([[0]]);
    expect(() => classifyHeads([], { sink: 1, recent: 4, streamingFraction: 0.5 })).toThrow(/E_PARAMS/);
    expect(() => classifyHeads([trace], { sink: 1, recent: 4, streamingFraction: 2 })).toThrow(/E_PARAMS.*streamingFraction/);
  });
});
