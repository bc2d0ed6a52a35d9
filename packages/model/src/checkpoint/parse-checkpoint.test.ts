import { readFileSync } from 'node:fs';
import { modelFiles } from '@sparseland/fixtures';
import { describe, expect, it } from 'vitest';
import { syntheticWeights } from '../../test/helpers/synthetic-model.js';
import { CHECKPOINT_MAGIC, createModel, type LlamaWeights, parseCheckpoint, writeCheckpoint } from '../index.js';

const stories = new Uint8Array(readFileSync(modelFiles('stories260K').checkpoint));

function withInt32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setInt32(offset, value, true);
  return copy;
}

/** Index of the first differing value (-1 when equal): fast on 10^6 floats, unlike a deep toEqual. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function expectSameTensors(a: LlamaWeights, b: LlamaWeights): void {
  expect(firstDifference(a.tokenEmbedding, b.tokenEmbedding)).toBe(-1);
  expect(firstDifference(a.classifier, b.classifier)).toBe(-1);
  expect(firstDifference(a.rmsFinal, b.rmsFinal)).toBe(-1);
  a.layers.forEach((layer, l) => {
    for (const [name, tensor] of Object.entries(layer)) {
      const other = (b.layers[l] as unknown as Record<string, Float32Array>)[name]!;
      expect(firstDifference(tensor as Float32Array, other), `layer ${l} ${name}`).toBe(-1);
    }
  });
}

describe('parseCheckpoint', () => {
  it('reads the v0 tensors at the offsets of FORMATS.md', () => {
    const w = parseCheckpoint(stories);
    const view = new DataView(stories.buffer, stories.byteOffset);
    expect(w.tokenEmbedding[0]).toBe(view.getFloat32(28, true));
    expect(w.layers[0]!.wk[0]).toBe(view.getFloat32(214_300, true));
    expect(w.layers[4]!.w3[55_040 / 5 - 1]).toBe(view.getFloat32(1_039_900 - 4, true));
    expect(w.freqCisReal?.[0]).toBe(1);
    expect(w.freqCisImag?.[2047]).toBe(view.getFloat32(1_056_540 - 4, true));
    expect(w.classifier).toBe(w.tokenEmbedding);
  });

  it('v1 ("ak42") round-trips and runs exactly like the v0 file it came from', async () => {
    const v0 = parseCheckpoint(stories);
    const bytes = writeCheckpoint(v0, { version: 1 });
    expect(new DataView(bytes.buffer).getUint32(0, true)).toBe(CHECKPOINT_MAGIC);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('24ka');
    expect(bytes.length).toBe(256 + 4 * (264_128 - 4_096));
    const v1 = parseCheckpoint(bytes);
    expect(v1.config).toEqual({ ...v0.config, version: 1 });
    expect(v1.freqCisReal).toBeUndefined();
    expectSameTensors(v1, v0);
    const prompt = [1, 403, 407, 261];
    const a = await createModel(v0).createSession().prefill(prompt);
    const b = await createModel(v1).createSession().prefill(prompt);
    // v1 computes RoPE angles instead of reading the stored tables (which agree to ~2e-6).
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-3);
    expect(Buffer.from(writeCheckpoint(v0, { version: 0 })).equals(stories)).toBe(true);
  });

  it('an unshared classifier: negative vocab_size in v0, flag 0 in v1', () => {
    const shape = { dim: 8, hiddenDim: 12, layers: 2, heads: 2, kvHeads: 1, vocabSize: 11, seqLen: 6, sharedClassifier: false };
    for (const version of [0, 1] as const) {
      const w = syntheticWeights(shape, 3, version);
      expect(w.config.sharedClassifier).toBe(false);
      expect(w.classifier).not.toBe(w.tokenEmbedding);
      const bytes = writeCheckpoint(w);
      const view = new DataView(bytes.buffer);
      if (version === 0) expect(view.getInt32(20, true)).toBe(-11);
      else expect(view.getUint8(36)).toBe(0);
      expectSameTensors(parseCheckpoint(bytes), w);
    }
  });

  it('accepts an ArrayBuffer, and an unaligned slice of a bigger buffer', async () => {
    expect(parseCheckpoint(stories.slice().buffer).config.dim).toBe(64);
    const padded = new Uint8Array(stories.length + 1);
    padded.set(stories, 1);
    const w = parseCheckpoint(padded.subarray(1));
    expect(Array.from(w.rmsFinal)).toEqual(Array.from(parseCheckpoint(stories).rmsFinal));
    expect(await createModel(w).generate([1], { maxTokens: 3 })).toEqual([403, 407, 261]);
  });

  describe('rejects truncated, corrupt and foreign files with E_MODEL_FORMAT', () => {
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(0), /has 0 bytes, fewer than the 28 bytes of a llama2.c header/],
      [
        'one byte short',
        stories.subarray(0, stories.length - 1),
        /has 1,056,539 bytes; a v0 header for dim 64, .* needs exactly 1,056,540\. The file is truncated/,
      ],
      [
        'one byte long',
        new Uint8Array([...stories.subarray(0, 64), ...new Uint8Array(1_056_477)]),
        /has 1,056,541 bytes; .* trailing bytes/,
      ],
      ['absurd dim', withInt32(stories, 0, 0x7fffffff), /dim = 2147483647, expected an integer in \[1, 65536\]/],
      ['negative layers', withInt32(stories, 8, -3), /layers = -3/],
      ['heads not dividing dim', withInt32(stories, 12, 7), /dim = 64, which is not a multiple of heads = 7/],
      ['kv heads not dividing heads', withInt32(stories, 16, 3), /heads = 8, which is not a multiple of kvHeads = 3/],
      ['odd head dim', withInt32(withInt32(stories, 12, 64), 16, 64), /an odd head dim \(64 \/ 64 = 1\); RoPE rotates pairs/],
      ['wrong classifier sign', withInt32(stories, 20, -512), /other sign of vocab_size/],
      ['v2 magic', withInt32(withInt32(new Uint8Array(300), 0, CHECKPOINT_MAGIC), 4, 2), /version 2 .*Q8_0/],
      ['short v1', withInt32(new Uint8Array(100), 0, CHECKPOINT_MAGIC), /announces a 256-byte v1\+ header/],
      ['a tokenizer file', new Uint8Array(readFileSync(modelFiles('stories260K').tokenizer)), /E_MODEL_FORMAT/],
      ['text', new TextEncoder().encode('It is a truth universally acknowledged, that a single man'), /E_MODEL_FORMAT/],
    ];
    it.each(cases)('%s', (_name, bytes, message) => {
      expect(() => parseCheckpoint(bytes)).toThrow(message);
      try {
        parseCheckpoint(bytes);
      } catch (error) {
        expect(error).toMatchObject({ code: 'E_MODEL_FORMAT' });
      }
    });

    it('a NaN weight', () => {
      const corrupt = stories.slice();
      new DataView(corrupt.buffer).setFloat32(214_300 + 40, Number.NaN, true);
      expect(() => parseCheckpoint(corrupt)).toThrow(/checkpoint is corrupt: wk of layer 0 holds NaN at index 10/);
      expect(parseCheckpoint(corrupt, { checkFinite: false }).layers[0]!.wk[10]).toBeNaN();
    });

    it('a v1 shared-classifier flag that is not 0 or 1', () => {
      const v1 = writeCheckpoint(syntheticWeights({ dim: 4, hiddenDim: 4, layers: 1, heads: 1, kvHeads: 1, vocabSize: 3, seqLen: 2 }, 1), {
        version: 1,
      });
      v1[36] = 7;
      expect(() => parseCheckpoint(v1)).toThrow(/shared-classifier flag 7/);
    });
  });

  it('rejects what is not bytes with E_PARAMS', () => {
    expect(() => parseCheckpoint('model.bin' as never)).toThrow(/E_PARAMS.*Uint8Array or an ArrayBuffer/);
  });

  it('writeCheckpoint computes the RoPE tables of a v0 file when the weights have none', () => {
    const shape = { dim: 8, hiddenDim: 8, layers: 1, heads: 2, kvHeads: 2, vocabSize: 5, seqLen: 7 };
    const v1 = syntheticWeights(shape, 9, 1);
    const v0 = parseCheckpoint(writeCheckpoint(v1, { version: 0 }));
    // pair j of position p: cos(p·10000^(−2j/4))
    expect(v0.freqCisReal![3 * 2 + 1]).toBeCloseTo(Math.cos(3 * 10000 ** -0.5), 6);
    expect(v0.freqCisImag![6 * 2]).toBeCloseTo(Math.sin(6), 6);
  });
});
