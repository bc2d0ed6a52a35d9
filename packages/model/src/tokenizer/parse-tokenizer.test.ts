import { readFileSync } from 'node:fs';
import { modelFiles } from '@sparseland/fixtures';
import { describe, expect, it } from 'vitest';
import { parseTokenizer } from '../index.js';

const file = new Uint8Array(readFileSync(modelFiles('stories260K').tokenizer));

function tokenizerBytes(maxTokenLength: number, records: { score: number; piece: number[]; length?: number }[]): Uint8Array {
  const size = 4 + records.reduce((s, r) => s + 8 + r.piece.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setInt32(0, maxTokenLength, true);
  let at = 4;
  for (const r of records) {
    view.setFloat32(at, r.score, true);
    view.setInt32(at + 4, r.length ?? r.piece.length, true);
    out.set(r.piece, at + 8);
    at += 8 + r.piece.length;
  }
  return out;
}

describe('parseTokenizer', () => {
  it('accepts ArrayBuffers and unaligned slices, and copies the bytes', () => {
    const padded = new Uint8Array(file.length + 3);
    padded.set(file, 3);
    const tok = parseTokenizer(padded.subarray(3), 512);
    padded.fill(0);
    expect(tok.encode('Once upon a time')).toEqual([403, 407, 261, 378]);
    expect(parseTokenizer(file.slice().buffer, 512).vocabSize).toBe(512);
  });

  it('catches a vocabulary size that does not match the file', () => {
    expect(() => parseTokenizer(file, 511)).toThrow(
      /E_MODEL_FORMAT.*bytes remain after 511 records.*more tokens than the model's vocabulary/,
    );
    expect(() => parseTokenizer(file, 513)).toThrow(/E_MODEL_FORMAT.*ends inside the header of record 512/);
    expect(() => parseTokenizer(file, 1000)).toThrow(/has 6,227 bytes; 1,000 records need at least 8,004/);
  });

  it('names the broken record', () => {
    expect(() =>
      parseTokenizer(
        tokenizerBytes(2, [
          { score: 0, piece: [65] },
          { score: Number.NaN, piece: [66] },
        ]),
        2,
      ),
    ).toThrow(/record 1 has score NaN, expected a finite number/);
    expect(() => parseTokenizer(tokenizerBytes(2, [{ score: 0, piece: [65, 66, 67] }]), 1)).toThrow(
      /record 0 has length 3, expected 0..2 \(the file's max_token_length\)/,
    );
    expect(() => parseTokenizer(tokenizerBytes(2, [{ score: 0, piece: [], length: 2 }]), 1)).toThrow(/record 0 needs 2 bytes/);
    expect(() => parseTokenizer(tokenizerBytes(-5, [{ score: 0, piece: [] }]), 1)).toThrow(/max_token_length is -5/);
  });

  it('checks its arguments', () => {
    expect(() => parseTokenizer(file, 0)).toThrow(/E_PARAMS.*vocabSize/);
    expect(() => parseTokenizer('tok512.bin' as never, 512)).toThrow(/must be a Uint8Array or an ArrayBuffer/);
  });
});
