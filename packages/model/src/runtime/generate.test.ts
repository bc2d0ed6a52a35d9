import { describe, expect, it } from 'vitest';
import { randomTokens, syntheticWeights } from '../../test/helpers/synthetic-model.js';
import { argmax, createModel } from '../index.js';

const shape = { dim: 16, hiddenDim: 24, layers: 2, heads: 4, kvHeads: 2, vocabSize: 11, seqLen: 32 };
const model = createModel(syntheticWeights(shape, 31));
const prompt = randomTokens(5, shape.vocabSize, 1);

describe('generate', () => {
  it('greedy generation is argmax after every step', async () => {
    const ids = await model.generate(prompt, { maxTokens: 8 });
    expect(ids).toHaveLength(8);
    const session = model.createSession();
    let logits = await session.prefill(prompt);
    for (const id of ids) {
      expect(id).toBe(argmax(logits));
      logits = await session.step(id);
    }
  });

  it('stops at stop tokens without returning them, reports each token, honours maxTokens 0', async () => {
    const greedy = await model.generate(prompt, { maxTokens: 8 });
    const stop = greedy[3]!;
    const first = greedy.indexOf(stop);
    const seen: number[] = [];
    const stopped = await model.generate(prompt, { maxTokens: 8, stopTokens: [stop], onToken: (id) => seen.push(id) });
    expect(stopped).toEqual(greedy.slice(0, first));
    expect(seen).toEqual(stopped);
    expect(await model.generate(prompt, { maxTokens: 0 })).toEqual([]);
  });

  it('sampling with a temperature is seeded', async () => {
    const a = await model.generate(prompt, { maxTokens: 12, temperature: 100, seed: 4 });
    const b = await model.generate(prompt, { maxTokens: 12, temperature: 100, seed: 4 });
    const c = await model.generate(prompt, { maxTokens: 12, temperature: 100, seed: 5 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.every((id) => id >= 0 && id < shape.vocabSize)).toBe(true);
  });

  it('checks its options', async () => {
    await expect(model.generate(prompt, {} as never)).rejects.toThrow(/maxTokens must be an integer >= 0/);
    await expect(model.generate(prompt, { maxTokens: 1, temperature: -1 })).rejects.toThrow(/temperature/);
    await expect(model.generate([], { maxTokens: 1 })).rejects.toThrow(/at least one token/);
  });
});
