import { readFileSync } from 'node:fs';
import { modelFiles } from '@sparseland/fixtures';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LlamaTokenizer, parseTokenizer } from '../index.js';

const stories = parseTokenizer(readFileSync(modelFiles('stories260K').tokenizer), 512);
const bytes = parseTokenizer(readFileSync(modelFiles('tinybooks-2k').tokenizer), 256);

/** run.c's encoder as written there: O(n²) rescans (the oracle of the heap-based merge). */
function runCEncode(tok: LlamaTokenizer, text: string): number[] {
  const ids: number[] = [];
  const data = new TextEncoder().encode(text);
  if (data.length > 0 && tok.idOf(' ') !== undefined) ids.push(tok.idOf(' ')!);
  for (let i = 0; i < data.length; ) {
    let j = i + 1;
    while (j < data.length && j - i < 4 && (data[j]! & 0xc0) === 0x80) j++;
    const id = tok.idOf(new TextDecoder().decode(data.subarray(i, j)));
    if (id !== undefined) ids.push(id);
    else for (let b = i; b < j; b++) ids.push(data[b]! + 3);
    i = j;
  }
  const key = (id: number) => Array.from(tok.pieceBytes(id), (b) => String.fromCharCode(b)).join('');
  const byKey = new Map<string, number>();
  for (let id = 0; id < tok.vocabSize; id++) if (!byKey.has(key(id))) byKey.set(key(id), id);
  for (;;) {
    let best = -1e10;
    let bestId = -1;
    let bestAt = -1;
    for (let i = 0; i + 1 < ids.length; i++) {
      const id = byKey.get(key(ids[i]!) + key(ids[i + 1]!));
      if (id !== undefined && tok.score(id) > best) {
        best = tok.score(id);
        bestId = id;
        bestAt = i;
      }
    }
    if (bestAt < 0) return ids;
    ids.splice(bestAt, 2, bestId);
  }
}

describe('sentencepiece vocabulary (stories260K tok512.bin)', () => {
  it('has the layout of FORMATS.md', () => {
    expect(stories.kind).toBe('sentencepiece');
    expect(stories.maxTokenLength).toBe(7);
    expect(stories.bosId).toBe(1);
    expect(stories.eosId).toBe(2);
    expect(stories.idOf(' Once')).toBe(403);
    expect(stories.idOf(' ')).toBe(410);
    expect(stories.score(260)).toBe(-1);
  });

  it('encodes with the dummy prefix, BOS and EOS on request', () => {
    expect(stories.encode('Once upon a time')).toEqual([403, 407, 261, 378]);
    expect(stories.encode('Lily and Tom', { bos: true, eos: true })).toEqual([1, 317, 269, 274, 287, 2]);
    expect(stories.encode('')).toEqual([]);
  });

  it('falls back to <0xHH> byte tokens for characters it lacks, and decodes them back', () => {
    const text = 'naïve 🙂\nok';
    const ids = stories.encode(text);
    expect(ids).toContain(0xf0 + 3); // the first byte of the emoji
    expect(ids).toContain(13); // "\n" is the byte piece <0x0A>
    expect(stories.decode(ids)).toBe(text);
    expect(stories.decode([1, ...ids])).toBe(text);
  });

  it('the heap-based merge equals run.c’s O(n²) loop on random text', () => {
    const alphabet = fc.constantFrom(...'the cat sat on a mat. Once upon a time, Lily! é🙂\n'.split(''));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 60 }), (chars) => {
        const text = chars.join('');
        expect(stories.encode(text)).toEqual(runCEncode(stories, text));
      }),
      { numRuns: 200, seed: 42 },
    );
  });

  it('round-trips any text through encode and decode', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
        // The dummy prefix is dropped again; a text that starts with a space keeps its own.
        expect(stories.decode(stories.encode(text))).toBe(text);
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it('rejects bad ids with E_PARAMS', () => {
    expect(() => stories.decode([512])).toThrow(/ids\[0\] must be a token id in \[0, 512\), got 512/);
    expect(() => stories.decode('abc' as never)).toThrow(/E_PARAMS/);
    expect(() => stories.encode(3 as never)).toThrow(/text must be a string/);
  });
});

describe('byte-level vocabulary (tinybooks-2k tok256.bin)', () => {
  it('encodes UTF-8 bytes as ids, with no prefix and no specials', () => {
    expect(bytes.kind).toBe('bytes');
    expect(bytes.encode('Hi é')).toEqual([72, 105, 32, 0xc3, 0xa9]);
    expect(bytes.decode([72, 105, 32, 0xc3, 0xa9, 1])).toBe('Hi é\u0001');
    expect(() => bytes.encode('x', { bos: true })).toThrow(/has no BOS token/);
  });
});
