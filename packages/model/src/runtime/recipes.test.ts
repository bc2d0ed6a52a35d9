// Attention goes through core's attention() with the session's recipe, registry and backend.
import { type Backend, compileRecipe, createReferenceBackend } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, naiveForward } from '../../test/helpers/naive-llama.js';
import { randomTokens, syntheticWeights } from '../../test/helpers/synthetic-model.js';
import { testRegistry } from '../../test/helpers/test-plugins.js';
import { type AttentionEvent, createModel } from '../index.js';

const shape = { dim: 24, hiddenDim: 30, layers: 3, heads: 6, kvHeads: 3, vocabSize: 23, seqLen: 64 };
const weights = syntheticWeights(shape, 77);
const model = createModel(weights);
const tokens = randomTokens(37, shape.vocabSize, 8);
const V = shape.vocabSize;
const rows = (logits: Float32Array, t: number) => logits.subarray(t * V, (t + 1) * V);

async function allLogits(options: Parameters<typeof model.createSession>[0]): Promise<Float32Array> {
  return model.createSession(options).prefill(tokens, { allLogits: true });
}

describe('recipes', () => {
  it('dense and an all-keeping mask give the same logits; a sliding window changes them as the oracle says', async () => {
    const dense = await allLogits({});
    const full = await allLogits({ recipe: { method: 'test-full' }, registry: testRegistry });
    expect(maxAbsDiff(full, dense)).toBeLessThan(1e-5);

    const window = 5;
    const sparse = await allLogits({ recipe: { method: 'test-window', params: { window } }, registry: testRegistry });
    expect(maxAbsDiff(sparse, dense)).toBeGreaterThan(1e-2);
    const naive = naiveForward(weights, tokens, (_l, _h, q, k) => q - k < window);
    tokens.forEach((_, t) => {
      expect(maxAbsDiff(rows(sparse, t), naive.logits[t]!)).toBeLessThan(2e-4);
    });
    // The first `window` positions see every key either way.
    expect(maxAbsDiff(rows(sparse, window - 1), rows(dense, window - 1))).toBeLessThan(1e-5);
  });

  it('per-layer recipes apply to their layer only (the layer index reaches attention())', async () => {
    const recipe = { default: { method: 'dense' }, layers: { '1': { default: { method: 'test-window', params: { window: 3 } } } } };
    const logits = await allLogits({ recipe, registry: testRegistry });
    const naive = naiveForward(weights, tokens, (l, _h, q, k) => l !== 1 || q - k < 3);
    tokens.forEach((_, t) => {
      expect(maxAbsDiff(rows(logits, t), naive.logits[t]!)).toBeLessThan(2e-4);
    });
  });

  it('per-head recipes reach the right heads', async () => {
    const recipe = { default: { method: 'dense' }, layers: { '0': { heads: { '4': { method: 'test-window', params: { window: 2 } } } } } };
    const logits = await allLogits({ recipe, registry: testRegistry });
    const naive = naiveForward(weights, tokens, (l, h, q, k) => !(l === 0 && h === 4) || q - k < 2);
    expect(maxAbsDiff(rows(logits, 30), naive.logits[30]!)).toBeLessThan(2e-4);
  });

  it('decode steps follow the recipe too, so they equal prefill rows of the same recipe', async () => {
    const recipe = compileRecipe({ method: 'test-window', params: { window: 6 } }, testRegistry);
    const prefilled = await allLogits({ recipe });
    const session = model.createSession({ recipe });
    await session.prefill(tokens.slice(0, 10));
    for (let t = 10; t < tokens.length; t++) expect(maxAbsDiff(await session.step(tokens[t]!), rows(prefilled, t))).toBeLessThan(1e-5);
  });

  it('recipes as JSON text work, and errors name the path', () => {
    expect(() => model.createSession({ recipe: '{"method":"test-window","params":{"window":2}}', registry: testRegistry })).not.toThrow();
    expect(() => model.createSession({ recipe: { method: 'test-window', params: { window: 0 } }, registry: testRegistry })).toThrow(
      /params\.window/,
    );
  });
});

describe('backends and statistics', () => {
  it('runs prefill through backend.attend, linear layers on prepared weights and dense decode steps through a KV store of the given backend', async () => {
    const reference = createReferenceBackend();
    const calls = { attend: 0, decode: 0, prepareLinear: 0, linear: 0, createKvStore: 0, storeDecode: 0, append: 0, dispose: 0 };
    const spy: Backend = {
      ...reference,
      name: 'spy',
      attend: (input, options) => {
        calls.attend++;
        return reference.attend(input, options);
      },
      decode: (input, options) => {
        calls.decode++;
        return reference.decode(input, options);
      },
      prepareLinear: async (weights, linearShape) => {
        calls.prepareLinear++;
        const linear = await reference.prepareLinear(weights, linearShape);
        return {
          ...linear,
          outDim: linear.outDim,
          inDim: linear.inDim,
          run: (x, rows, out) => {
            calls.linear++;
            return linear.run(x, rows, out);
          },
        };
      },
      createKvStore: async (storeShape) => {
        calls.createKvStore++;
        const store = await reference.createKvStore(storeShape);
        return {
          kvHeads: store.kvHeads,
          dim: store.dim,
          length: (g) => store.length(g),
          setHead: (g, k, v) => store.setHead(g, k, v),
          dispose: () => store.dispose(),
          append: (k, v) => {
            calls.append++;
            return store.append(k, v);
          },
          decode: (q, options) => {
            calls.storeDecode++;
            return store.decode(q, options);
          },
        };
      },
      dispose: async () => {
        calls.dispose++;
      },
    };
    const session = model.createSession({ backend: spy });
    await session.prefill(tokens.slice(0, 5));
    // 4 prepared matrices per layer (q|k|v, o, w1|w3, w2) and the classifier; 4 runs per layer and 1 for the logits.
    const linears = 4 * shape.layers + 1;
    expect(calls).toMatchObject({ attend: shape.layers, prepareLinear: linears, linear: linears, createKvStore: 0, storeDecode: 0 });
    await session.step(3);
    expect(calls).toMatchObject({ attend: shape.layers, createKvStore: shape.layers, storeDecode: shape.layers, append: 0 });
    await session.step(4);
    // The second step appends one token per layer to the store; the cache is not written again; weights not prepared again.
    expect(calls).toMatchObject({
      attend: shape.layers,
      prepareLinear: linears,
      linear: 3 * linears,
      storeDecode: 2 * shape.layers,
      append: shape.layers,
    });
    expect(calls.decode).toBe(0);
    await session.dispose();
    // A backend the caller passed is the caller's to dispose.
    expect(calls.dispose).toBe(0);
    // A second session on the same backend reuses the prepared weights.
    await model.createSession({ backend: spy }).prefill(tokens.slice(0, 2));
    expect(calls.prepareLinear).toBe(linears);
  });

  it('reports density and FLOPs of every attention call', async () => {
    const events: AttentionEvent[] = [];
    const session = model.createSession({
      recipe: { method: 'test-window', params: { window: 4 } },
      registry: testRegistry,
      onAttention: (e) => events.push(e),
    });
    await session.prefill(tokens.slice(0, 20));
    expect(events).toHaveLength(shape.layers);
    const first = events[0]!;
    expect(first).toMatchObject({ layer: 0, phase: 'prefill', position: 0, queries: 20, keys: 20 });
    // Window 4 keeps 1+2+3+4·17 = 74 of the 210 causal pairs per head.
    expect(first.stats.density).toBeCloseTo(74 / 210, 10);
    expect(first.stats.flops.attend).toBe(74 * shape.heads * 4 * (shape.dim / shape.heads));
    await session.step(1);
    expect(events[shape.layers]).toMatchObject({ layer: 0, phase: 'decode', position: 20, queries: 1, keys: 21 });
  });
});
