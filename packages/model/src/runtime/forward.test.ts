// The forward pass against an independent float64 port of run.c, on odd shapes (GQA, untied classifier, v1 files,
// chunk sizes that are not multiples of anything, positions past the trained context).
import { createCpuBackend } from '@sparseland/backend-cpu';
import { createReferenceBackend } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, naiveForward } from '../../test/helpers/naive-llama.js';
import { randomTokens, syntheticWeights } from '../../test/helpers/synthetic-model.js';
import { createModel } from '../index.js';

const shapes = [
  { name: 'GQA 6:2, tied', shape: { dim: 24, hiddenDim: 37, layers: 2, heads: 6, kvHeads: 2, vocabSize: 29, seqLen: 40 } },
  {
    name: 'MHA, untied classifier',
    shape: { dim: 16, hiddenDim: 20, layers: 3, heads: 2, kvHeads: 2, vocabSize: 19, seqLen: 32, sharedClassifier: false },
  },
  { name: 'MQA 4:1, head dim 2', shape: { dim: 8, hiddenDim: 11, layers: 1, heads: 4, kvHeads: 1, vocabSize: 7, seqLen: 16 } },
];

/** Float32 runtime vs float64 oracle: differences come from float32 storage of activations. */
const TOL = 2e-4;

describe.each(shapes)('forward pass: $name', ({ shape }) => {
  for (const version of [0, 1] as const) {
    it(`v${version}: prefill logits of every position match the float64 oracle`, async () => {
      const weights = syntheticWeights(shape, 11 + version, version);
      const tokens = randomTokens(23, shape.vocabSize, 3);
      const naive = naiveForward(weights, tokens);
      const session = createModel(weights).createSession();
      const logits = await session.prefill(tokens, { allLogits: true });
      tokens.forEach((_, t) => {
        expect(maxAbsDiff(logits.subarray(t * shape.vocabSize, (t + 1) * shape.vocabSize), naive.logits[t]!)).toBeLessThan(TOL);
      });
      expect(session.position).toBe(tokens.length);
    });
  }

  it('chunked prefill (7 + 1 + 10 + 5) equals one-shot prefill, and decode steps equal prefill rows', async () => {
    const weights = syntheticWeights(shape, 5);
    const model = createModel(weights);
    const tokens = randomTokens(23, shape.vocabSize, 9);
    const oneShot = await model.createSession().prefill(tokens, { allLogits: true });
    const row = (t: number) => oneShot.subarray(t * shape.vocabSize, (t + 1) * shape.vocabSize);

    const chunked = model.createSession();
    let at = 0;
    for (const size of [7, 1, 10, 5]) {
      const logits = await chunked.prefill(tokens.slice(at, at + size), { allLogits: true });
      for (let t = 0; t < size; t++) {
        expect(maxAbsDiff(logits.subarray(t * shape.vocabSize, (t + 1) * shape.vocabSize), row(at + t))).toBeLessThan(1e-5);
      }
      at += size;
    }

    const decoding = model.createSession();
    await decoding.prefill(tokens.slice(0, 1));
    for (let t = 1; t < tokens.length; t++) expect(maxAbsDiff(await decoding.step(tokens[t]!), row(t))).toBeLessThan(1e-5);
  });
});

describe.each(shapes)('forward pass on backend-cpu (matrix products and the KV store in WebAssembly): $name', ({ shape }) => {
  it('prefill (chunks of 5 + 13) and decode steps match the float64 oracle', async () => {
    const weights = syntheticWeights(shape, 21);
    const tokens = randomTokens(30, shape.vocabSize, 4);
    const naive = naiveForward(weights, tokens);
    // Workers for every job (minParallelWork 0), so the worker pool's path is the one tested.
    const backend = await createCpuBackend({ threads: 2, minParallelWork: 0 });
    try {
      const session = createModel(weights).createSession({ backend });
      let at = 0;
      for (const size of [5, 13]) {
        const logits = await session.prefill(tokens.slice(at, at + size), { allLogits: true });
        for (let t = 0; t < size; t++) {
          expect(maxAbsDiff(logits.subarray(t * shape.vocabSize, (t + 1) * shape.vocabSize), naive.logits[at + t]!)).toBeLessThan(TOL);
        }
        at += size;
      }
      for (; at < tokens.length; at++) expect(maxAbsDiff(await session.step(tokens[at]!), naive.logits[at]!)).toBeLessThan(TOL);
      await session.dispose();
    } finally {
      await backend.dispose();
    }
  });
});

describe('positions past the trained context', () => {
  it('compute RoPE with the same formula (extrapolation) and say so', async () => {
    const shape = { dim: 16, hiddenDim: 24, layers: 2, heads: 4, kvHeads: 2, vocabSize: 13, seqLen: 8 };
    const weights = syntheticWeights(shape, 21);
    const tokens = randomTokens(30, shape.vocabSize, 4);
    const naive = naiveForward(weights, tokens);
    const session = createModel(weights).createSession();
    await session.prefill(tokens.slice(0, 8));
    expect(session.extrapolating).toBe(false);
    const logits = await session.prefill(tokens.slice(8), { allLogits: true });
    expect(session.extrapolating).toBe(true);
    for (let t = 8; t < tokens.length; t++) {
      expect(maxAbsDiff(logits.subarray((t - 8) * 13, (t - 7) * 13), naive.logits[t]!)).toBeLessThan(TOL);
    }
  });
});

describe('session input checks', () => {
  const weights = syntheticWeights({ dim: 8, hiddenDim: 8, layers: 1, heads: 2, kvHeads: 1, vocabSize: 5, seqLen: 8 }, 1);
  const model = createModel(weights);

  it('rejects bad token ids and empty prompts with E_PARAMS', async () => {
    const session = model.createSession();
    await expect(session.prefill([])).rejects.toMatchObject({ code: 'E_PARAMS' });
    await expect(session.prefill([0, 5])).rejects.toThrow(/tokens\[1\] must be a token id in \[0, 5\), got 5/);
    await expect(session.step(-1)).rejects.toMatchObject({ code: 'E_PARAMS' });
    await expect(session.prefill([1.5])).rejects.toMatchObject({ code: 'E_PARAMS' });
    // Rejected input leaves the session usable.
    await expect(session.prefill([1, 2])).resolves.toHaveLength(5);
  });

  it('refuses concurrent calls and use after dispose', async () => {
    const session = model.createSession();
    const first = session.prefill([1, 2, 3]);
    await expect(session.step(1)).rejects.toThrow(/busy/);
    await first;
    await session.dispose();
    await expect(session.step(1)).rejects.toThrow(/disposed/);
  });

  it('rejects bad options', () => {
    expect(() => model.createSession({ seed: -1 })).toThrow(/seed/);
    expect(() => model.createSession({ backend: {} as never })).toThrow(/Backend/);
    // A backend written before linear layers and KV stores joined the contract says what it lacks.
    const { prepareLinear: _p, createKvStore: _c, ...attentionOnly } = createReferenceBackend();
    expect(() => model.createSession({ backend: attentionOnly as never })).toThrow(/E_PARAMS.*without prepareLinear, createKvStore/);
    expect(() => model.createSession({ recipe: { method: 'nope' } })).toThrow(/unknown method "nope".*registry/s);
  });

  it('createModel checks tensor sizes', () => {
    const broken = { ...weights, rmsFinal: new Float32Array(3) };
    expect(() => createModel(broken)).toThrow(/rmsFinal must be a Float32Array of 8 floats/);
    expect(() => createModel({} as never)).toThrow(/expected weights/);
  });
});
