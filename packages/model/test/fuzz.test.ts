// Fuzzing both parsers with random bytes, truncations and bit flips of the real files: every input gives either a
// valid result or E_MODEL_FORMAT — no other exception, no hang, and no allocation sized by a header (a parsed
// checkpoint's tensors are views of the input; a tokenizer's pieces are views of one copy of the input).
import { readFileSync } from 'node:fs';
import { isSparselandError } from '@sparseland/core';
import { modelFiles } from '@sparseland/fixtures';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_MAGIC, HEADER_LIMITS, type LlamaWeights, parseCheckpoint, parseTokenizer } from '../src/index.js';

const stories = new Uint8Array(readFileSync(modelFiles('stories260K').checkpoint));
const tinybooks = new Uint8Array(readFileSync(modelFiles('tinybooks-2k').checkpoint));
const tok512 = new Uint8Array(readFileSync(modelFiles('stories260K').tokenizer));
const tok256 = new Uint8Array(readFileSync(modelFiles('tinybooks-2k').tokenizer));

/** Runs `parse`; returns its result, or undefined for E_MODEL_FORMAT; rethrows anything else (the property fails). */
function parsedOrFormatError<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (isSparselandError(error, 'E_MODEL_FORMAT')) return undefined;
    throw error;
  }
}

function expectSaneCheckpoint(w: LlamaWeights, input: Uint8Array): void {
  const c = w.config;
  expect(c.dim).toBeLessThanOrEqual(HEADER_LIMITS.dim);
  expect(c.layers).toBeLessThanOrEqual(HEADER_LIMITS.layers);
  // Zero-copy: every tensor is a view of the bytes that were parsed, so nothing was sized from the header.
  const tensors = [w.tokenEmbedding, w.rmsFinal, w.classifier, ...w.layers.flatMap((l) => Object.values(l) as Float32Array[])];
  for (const t of tensors) expect(t.buffer).toBe(input.buffer);
}

const flips = (length: number) =>
  fc.array(
    fc.record({
      // Half the flips hit the header, where they matter most.
      at: fc.oneof(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: length - 1 })),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    { minLength: 1, maxLength: 6 },
  );

/** The full length half the time, else a random truncation. */
const maybeTruncate = (length: number) => fc.oneof(fc.constant(length), fc.integer({ min: 0, max: length }));

function flipped(source: Uint8Array, changes: { at: number; bit: number }[]): Uint8Array {
  const copy = source.slice();
  for (const { at, bit } of changes) copy[at]! ^= 1 << bit;
  return copy;
}

describe('checkpoint parser fuzz', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        const w = parsedOrFormatError(() => parseCheckpoint(bytes));
        if (w) expectSaneCheckpoint(w, bytes);
      }),
      { numRuns: 300, seed: 1 },
    );
  });

  it('coherent and hostile headers over random bodies of about the right size', () => {
    const hostile = fc.constantFrom(0, -1, 7, 0x7fffffff, -0x80000000, 1 << 20, 65_537);
    fc.assert(
      fc.property(
        fc.record({
          v1: fc.boolean(),
          shared: fc.boolean(),
          headDim: fc.integer({ min: 1, max: 4 }).map((x) => 2 * x),
          kvHeads: fc.integer({ min: 1, max: 3 }),
          group: fc.integer({ min: 1, max: 3 }),
          hidden: fc.integer({ min: 1, max: 12 }),
          layers: fc.integer({ min: 1, max: 3 }),
          vocab: fc.integer({ min: 1, max: 12 }),
          seq: fc.integer({ min: 1, max: 12 }),
        }),
        // Mostly the exact size; sometimes a few bytes off.
        fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -9, max: 9 }) }),
        // Mostly coherent; sometimes one field replaced by a hostile value.
        fc.option(fc.record({ field: fc.integer({ min: 0, max: 6 }), value: hostile }), { freq: 3 }),
        fc.integer(),
        (h, slack, sabotage, seed) => {
          const heads = h.kvHeads * h.group;
          const dim = heads * h.headDim;
          const kvDim = h.kvHeads * h.headDim;
          // The sizes of FORMATS.md, computed here independently of the parser.
          const perLayer = 2 * dim + 2 * dim * dim + 2 * kvDim * dim + 3 * h.hidden * dim;
          const floats = h.vocab * dim * (h.shared ? 1 : 2) + h.layers * perLayer + dim + (h.v1 ? 0 : h.seq * h.headDim);
          const header = h.v1 ? 256 : 28;
          const bytes = new Uint8Array(Math.max(0, header + 4 * floats + slack));
          const view = new DataView(bytes.buffer);
          for (let at = header; at + 4 <= bytes.length; at += 4) view.setFloat32(at, Math.sin(seed + at), true);
          const fields = [dim, h.hidden, h.layers, heads, h.kvHeads, h.v1 || h.shared ? h.vocab : -h.vocab, h.seq];
          if (sabotage) fields[sabotage.field] = sabotage.value;
          if (bytes.length >= header) {
            const at = h.v1 ? 8 : 0;
            if (h.v1) {
              view.setUint32(0, CHECKPOINT_MAGIC, true);
              view.setInt32(4, 1, true);
              view.setUint8(36, h.shared ? 1 : 0);
            }
            fields.forEach((f, i) => {
              view.setInt32(at + 4 * i, f, true);
            });
          }
          const w = parsedOrFormatError(() => parseCheckpoint(bytes));
          if (w) expectSaneCheckpoint(w, bytes);
          // A coherent header over exactly its size must parse.
          if (!sabotage && slack === 0)
            expect(w?.config).toMatchObject({ dim, heads, kvHeads: h.kvHeads, vocabSize: h.vocab, sharedClassifier: h.shared });
        },
      ),
      { numRuns: 400, seed: 2 },
    );
  });

  it('every truncation of stories260K.bin fails cleanly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: stories.length - 1 }), (n) => {
        expect(() => parseCheckpoint(stories.subarray(0, n))).toThrow(/E_MODEL_FORMAT/);
      }),
      { numRuns: 200, seed: 3 },
    );
  });

  it('bit flips of stories260K.bin', () => {
    fc.assert(
      fc.property(flips(stories.length), (changes) => {
        const bytes = flipped(stories, changes);
        const w = parsedOrFormatError(() => parseCheckpoint(bytes));
        if (w) expectSaneCheckpoint(w, bytes);
      }),
      { numRuns: 150, seed: 4 },
    );
  });

  it('bit flips and truncations of tinybooks-2k.bin', () => {
    fc.assert(
      fc.property(flips(tinybooks.length), maybeTruncate(tinybooks.length), (changes, keep) => {
        const bytes = flipped(tinybooks, changes).subarray(0, keep);
        const w = parsedOrFormatError(() => parseCheckpoint(bytes));
        if (w) expectSaneCheckpoint(w, bytes);
      }),
      { numRuns: 25, seed: 5 },
    );
  });
});

describe('tokenizer parser fuzz', () => {
  /** A parsed tokenizer must also encode and decode without crashing (E_PARAMS is allowed for unencodable bytes). */
  function exercise(bytes: Uint8Array, vocabSize: number): void {
    const tok = parsedOrFormatError(() => parseTokenizer(bytes, vocabSize));
    if (!tok) return;
    expect(tok.vocabSize).toBe(vocabSize);
    try {
      const ids = tok.encode('Once upon a time, é 🙂\n', { bos: tok.bosId !== undefined });
      expect(typeof tok.decode(ids)).toBe('string');
    } catch (error) {
      if (!isSparselandError(error, 'E_PARAMS')) throw error;
    }
    expect(typeof tok.decode(Array.from({ length: Math.min(vocabSize, 300) }, (_, i) => i))).toBe('string');
  }

  it('random bytes and random vocabulary sizes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.integer({ min: 1, max: 600 }), (bytes, vocab) => exercise(bytes, vocab)),
      { numRuns: 300, seed: 6 },
    );
  });

  it('records with plausible lengths', () => {
    const record = fc.record({
      score: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: -50, max: 0 }) }, { weight: 1, arbitrary: fc.float() }),
      piece: fc.uint8Array({ minLength: 1, maxLength: 4 }),
      lie: fc.oneof({ weight: 40, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, -1, 5) }),
    });
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 40 }),
        fc.constantFrom(0, 0, 1, -1),
        fc.constantFrom(0, 0, -1, 1, 3),
        (records, maxLie, vocabLie) => {
          const size = 4 + records.reduce((s, r) => s + 8 + r.piece.length, 0);
          const bytes = new Uint8Array(size);
          const view = new DataView(bytes.buffer);
          view.setInt32(0, Math.max(...records.map((r) => r.piece.length)) + maxLie, true);
          let at = 4;
          for (const r of records) {
            view.setFloat32(at, r.score, true);
            // Mostly honest lengths; sometimes off.
            view.setInt32(at + 4, r.piece.length + r.lie, true);
            bytes.set(r.piece, at + 8);
            at += 8 + r.piece.length;
          }
          exercise(bytes, Math.max(1, records.length + vocabLie));
        },
      ),
      { numRuns: 400, seed: 7 },
    );
  });

  it('truncations and bit flips of tok512.bin and tok256.bin', () => {
    for (const [file, vocab] of [
      [tok512, 512],
      [tok256, 256],
    ] as const) {
      fc.assert(
        fc.property(flips(file.length), maybeTruncate(file.length), (changes, keep) => {
          exercise(flipped(file, changes).subarray(0, keep), vocab);
        }),
        { numRuns: 200, seed: 8 },
      );
      expect(() => parseTokenizer(file.subarray(0, file.length - 1), vocab)).toThrow(/E_MODEL_FORMAT/);
    }
  });
});
