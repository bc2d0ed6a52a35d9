import { createReferenceBackend, referenceAttention } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, naiveForward } from '../../test/helpers/naive-llama.js';
import { randomTokens, syntheticWeights } from '../../test/helpers/synthetic-model.js';
import { captureTraces, createModel, denseAttentionMap } from '../index.js';

const shape = { dim: 24, hiddenDim: 20, layers: 3, heads: 6, kvHeads: 2, vocabSize: 15, seqLen: 16 };
const weights = syntheticWeights(shape, 55);
const model = createModel(weights);
const tokens = randomTokens(21, shape.vocabSize, 2); // past seqLen 16: extrapolated
const naive = naiveForward(weights, tokens);
const headDim = shape.dim / shape.heads;

/** Token-major oracle rows [N][heads·headDim] → head-major [heads][N][headDim]. */
function headMajor(rows: Float64Array[], heads: number): Float64Array {
  const n = rows.length;
  const out = new Float64Array(heads * n * headDim);
  rows.forEach((row, t) => {
    for (let h = 0; h < heads; h++) for (let c = 0; c < headDim; c++) out[(h * n + t) * headDim + c] = row[h * headDim + c]!;
  });
  return out;
}

describe('captureTraces', () => {
  it('returns Q, K after RoPE and V of every layer, as the float64 oracle computes them', async () => {
    const trace = await captureTraces(model, tokens);
    expect(trace.tokens).toEqual(tokens);
    expect(trace.extrapolated).toBe(true);
    expect(trace.layers.map((l) => l.layer)).toEqual([0, 1, 2]);
    for (const layer of trace.layers) {
      expect([layer.q.heads, layer.q.length, layer.q.dim]).toEqual([6, 21, 4]);
      expect([layer.k.heads, layer.k.length, layer.v.heads]).toEqual([2, 21, 2]);
      expect(maxAbsDiff(layer.q.data, headMajor(naive.q[layer.layer]!, 6))).toBeLessThan(1e-4);
      expect(maxAbsDiff(layer.k.data, headMajor(naive.k[layer.layer]!, 2))).toBeLessThan(1e-4);
      expect(maxAbsDiff(layer.v.data, headMajor(naive.v[layer.layer]!, 2))).toBeLessThan(1e-4);
      expect(maxAbsDiff(layer.output.data, headMajor(naive.attention[layer.layer]!, 6))).toBeLessThan(1e-4);
    }
  });

  it('dense attention of the captured Q/K/V reproduces the attention output of the forward pass', async () => {
    const trace = await captureTraces(model, tokens, { layers: [2, 0], backend: createReferenceBackend() });
    expect(trace.layers.map((l) => l.layer)).toEqual([0, 2]);
    for (const layer of trace.layers) {
      const { output } = referenceAttention({ q: layer.q, k: layer.k, v: layer.v });
      expect(maxAbsDiff(output.data, layer.output.data)).toBeLessThan(1e-6);
    }
  });

  it('checks its arguments', async () => {
    await expect(captureTraces(model, tokens, { layers: [3] })).rejects.toThrow(/layers\[0\] must be an integer in \[0, 2\]/);
    await expect(captureTraces({} as never, tokens)).rejects.toThrow(/expected a model/);
  });
});

describe('denseAttentionMap', () => {
  it('gives the causal softmax rows of a head, matching the oracle’s attention weights', async () => {
    const trace = await captureTraces(model, tokens, { layers: [1] });
    const layer = trace.layers[0]!;
    const n = tokens.length;
    const map = denseAttentionMap(layer, 5);
    expect(map.length).toBe(n * n);
    // Weights times V must give the head's output; rows sum to 1 and are zero past the diagonal.
    const g = Math.floor(5 / 3);
    for (const i of [0, 7, n - 1]) {
      const row = map.subarray(i * n, (i + 1) * n);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(row.subarray(i + 1).every((p) => p === 0)).toBe(true);
      for (let c = 0; c < headDim; c++) {
        let sum = 0;
        for (let j = 0; j <= i; j++) sum += row[j]! * layer.v.data[(g * n + j) * headDim + c]!;
        expect(sum).toBeCloseTo(layer.output.data[(5 * n + i) * headDim + c]!, 5);
      }
    }
    const some = denseAttentionMap(layer, 5, { rows: [n - 1, 3] });
    expect(Array.from(some.subarray(0, n))).toEqual(Array.from(map.subarray((n - 1) * n)));
    expect(Array.from(some.subarray(n))).toEqual(Array.from(map.subarray(3 * n, 4 * n)));
  });

  it('rejects bad heads and rows', async () => {
    const trace = await captureTraces(model, tokens.slice(0, 4), { layers: [0] });
    expect(() => denseAttentionMap(trace.layers[0]!, 6)).toThrow(/head must be an integer in \[0, 5\]/);
    expect(() => denseAttentionMap(trace.layers[0]!, 0, { rows: [4] })).toThrow(/rows\[0\] must be an integer in \[0, 3\]/);
    expect(() => denseAttentionMap({} as never, 0)).toThrow(/expected a layer of captureTraces/);
  });
});
