// The two embedded real models must reproduce their golden files exactly (see fixtures/models/*/NOTICE.md).
import { readFileSync } from 'node:fs';
import { createCpuBackend } from '@sparseland/backend-cpu';
import { modelFiles } from '@sparseland/fixtures';
import { describe, expect, it } from 'vitest';
import { argmax, createModel, loadCheckpoint, loadTokenizer } from '../src/index.js';

interface StoriesGolden {
  greedy_ids: number[];
  greedy_text: string;
  pos0_top5_logits: { id: number; logit: number }[];
  encode_examples: Record<string, number[]>;
}

interface TinybooksGolden {
  prompt: string;
  argmax_per_pos: number[];
  logits_last_pos_first16: number[];
  greedy64: number[];
  greedy64_text: string;
}

describe('stories260K (reference-greedy.json)', async () => {
  const files = modelFiles('stories260K');
  const golden = JSON.parse(readFileSync(files.golden, 'utf8')) as StoriesGolden;
  const weights = await loadCheckpoint(files.checkpoint);
  const tokenizer = await loadTokenizer(files.tokenizer, weights.config.vocabSize);
  const model = createModel(weights);

  it('reads the header of NOTICE.md', () => {
    expect(weights.config).toEqual({
      dim: 64,
      hiddenDim: 172,
      layers: 5,
      heads: 8,
      kvHeads: 4,
      vocabSize: 512,
      seqLen: 512,
      headDim: 8,
      sharedClassifier: true,
      version: 0,
    });
  });

  it('greedy decoding from BOS reproduces the 345 reference ids and stops at BOS', async () => {
    const ids = await model.generate([1], { maxTokens: 1000, stopAtBos: true });
    expect(ids).toEqual(golden.greedy_ids);
    expect(tokenizer.decode(ids)).toBe(golden.greedy_text);
  });

  it('matches the top-5 logits at position 0 within 1e-3', async () => {
    const session = model.createSession();
    const logits = await session.prefill([1]);
    const top = Array.from(logits, (logit, id) => ({ id, logit }))
      .sort((a, b) => b.logit - a.logit)
      .slice(0, 5);
    expect(top.map((t) => t.id)).toEqual(golden.pos0_top5_logits.map((t) => t.id));
    golden.pos0_top5_logits.forEach((t, i) => {
      // The golden values are printed to 4 decimals.
      expect(Math.abs(top[i]!.logit - t.logit)).toBeLessThan(1e-3);
    });
  });

  it('encodes the reference examples', () => {
    for (const [text, ids] of Object.entries(golden.encode_examples)) expect(tokenizer.encode(text, { bos: true })).toEqual(ids);
  });
});

describe('tinybooks-2k (reference.json)', async () => {
  const files = modelFiles('tinybooks-2k');
  const golden = JSON.parse(readFileSync(files.golden, 'utf8')) as TinybooksGolden;
  const weights = await loadCheckpoint(files.checkpoint);
  const tokenizer = await loadTokenizer(files.tokenizer, weights.config.vocabSize);
  const model = createModel(weights);
  const prompt = tokenizer.encode(golden.prompt);

  it('reads the header of NOTICE.md and encodes bytes as ids', () => {
    expect(weights.config).toMatchObject({ dim: 256, hiddenDim: 512, layers: 4, heads: 4, kvHeads: 2, vocabSize: 256, seqLen: 2048 });
    expect(tokenizer.kind).toBe('bytes');
    expect(prompt).toEqual(Array.from(new TextEncoder().encode(golden.prompt)));
  });

  it('reproduces argmax_per_pos exactly and the 16 last-position logits within 1e-3', async () => {
    const session = model.createSession();
    const logits = await session.prefill(prompt, { allLogits: true });
    const vocab = weights.config.vocabSize;
    expect(logits.length).toBe(prompt.length * vocab);
    const argmaxes = prompt.map((_, t) => argmax(logits.subarray(t * vocab, (t + 1) * vocab)));
    expect(argmaxes).toEqual(golden.argmax_per_pos);
    const last = logits.subarray((prompt.length - 1) * vocab);
    golden.logits_last_pos_first16.forEach((expected, i) => {
      expect(Math.abs(last[i]! - expected)).toBeLessThan(1e-3);
    });
  });

  it('greedy generation reproduces greedy64', async () => {
    const ids = await model.generate(prompt, { maxTokens: 64 });
    expect(ids).toEqual(golden.greedy64);
    expect(tokenizer.decode(ids)).toBe(golden.greedy64_text);
  });
});

describe('any backend: @sparseland/backend-cpu instead of the float64 reference', async () => {
  const stories = modelFiles('stories260K');
  const tinybooks = modelFiles('tinybooks-2k');
  const storiesModel = createModel(await loadCheckpoint(stories.checkpoint));
  const tinyModel = createModel(await loadCheckpoint(tinybooks.checkpoint));
  const storiesGolden = JSON.parse(readFileSync(stories.golden, 'utf8')) as StoriesGolden;
  const tinyGolden = JSON.parse(readFileSync(tinybooks.golden, 'utf8')) as TinybooksGolden;

  it('reproduces both golden files (prefill through attend, decoding through decode)', async () => {
    const backend = await createCpuBackend();
    try {
      expect(await storiesModel.generate([1], { maxTokens: 1000, stopAtBos: true, backend })).toEqual(storiesGolden.greedy_ids);
      const prompt = Array.from(new TextEncoder().encode(tinyGolden.prompt));
      const logits = await tinyModel.createSession({ backend }).prefill(prompt, { allLogits: true });
      expect(prompt.map((_, t) => argmax(logits.subarray(t * 256, (t + 1) * 256)))).toEqual(tinyGolden.argmax_per_pos);
      const last = logits.subarray((prompt.length - 1) * 256);
      tinyGolden.logits_last_pos_first16.forEach((expected, i) => {
        expect(Math.abs(last[i]! - expected)).toBeLessThan(1e-3);
      });
    } finally {
      await backend.dispose();
    }
  });
});
