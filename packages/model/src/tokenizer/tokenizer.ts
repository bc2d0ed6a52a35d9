import { SparselandError } from '@sparseland/core';
import { describeValue } from '@sparseland/core/kit';
import { bpeMerge } from './bpe-merge.js';

/** What every tokenizer of the model runtime offers. */
export interface Tokenizer {
  readonly vocabSize: number;
  /** Token ids of `text`, with BOS first and/or EOS last when asked (throws E_PARAMS if the vocabulary has none). */
  encode(text: string, options?: EncodeOptions): number[];
  /** The text of a token sequence (control tokens dropped). */
  decode(ids: readonly number[]): string;
}

export interface EncodeOptions {
  /** Prepend BOS (default false). */
  readonly bos?: boolean;
  /** Append EOS (default false). */
  readonly eos?: boolean;
}

/**
 * `sentencepiece`: a llama2.c export of a SentencePiece model (<unk>, <s>, </s> at ids 0-2, `<0xHH>` byte-fallback
 * pieces, a dummy-prefix space). `bytes`: a byte-level vocabulary whose pieces are raw bytes (no specials, no prefix).
 */
export type TokenizerKind = 'sentencepiece' | 'bytes';

/** A llama2.c tokenizer: pieces with merge scores, encoded with run.c's BPE rules. */
export class LlamaTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly maxTokenLength: number;
  readonly kind: TokenizerKind;
  /** Id of BOS (1 in sentencepiece vocabularies), undefined when there is none. */
  readonly bosId: number | undefined;
  /** Id of EOS (2 in sentencepiece vocabularies), undefined when there is none. */
  readonly eosId: number | undefined;
  private readonly pieces: readonly Uint8Array[];
  private readonly keys: readonly string[];
  private readonly scores: Float32Array;
  private readonly byId: Map<string, number>;
  /** Token of each byte value when a codepoint is not in the vocabulary (-1: none). */
  private readonly byteToken: Int32Array;
  /** Byte value of each `<0xHH>` piece (-1 for other pieces). */
  private readonly pieceByte: Int16Array;
  private readonly spaceId: number | undefined;

  constructor(pieces: readonly Uint8Array[], scores: Float32Array, maxTokenLength: number) {
    this.vocabSize = pieces.length;
    this.maxTokenLength = maxTokenLength;
    this.pieces = pieces;
    this.scores = scores;
    this.keys = pieces.map(binaryKey);
    this.byId = new Map();
    // run.c's first tokenizers returned the first match: keep the lowest id of duplicated pieces.
    this.keys.forEach((key, id) => {
      if (!this.byId.has(key)) this.byId.set(key, id);
    });
    this.pieceByte = new Int16Array(pieces.length).fill(-1);
    const hexPieces = new Int32Array(256).fill(-1);
    this.keys.forEach((key, id) => {
      const match = /^<0x([0-9A-Fa-f]{2})>$/.exec(key);
      if (!match) return;
      const byte = Number.parseInt(match[1] as string, 16);
      this.pieceByte[id] = byte;
      if (hexPieces[byte] === -1) hexPieces[byte] = id;
    });
    const hasHexPieces = hexPieces.some((id) => id >= 0);
    const hasSpecials = this.keys[1]?.trim() === '<s>' && this.keys[2]?.trim() === '</s>';
    this.kind = hasHexPieces || hasSpecials ? 'sentencepiece' : 'bytes';
    this.byteToken = new Int32Array(256).fill(-1);
    for (let b = 0; b < 256; b++) {
      const hex = hexPieces[b] as number;
      this.byteToken[b] = hex >= 0 ? hex : (this.byId.get(String.fromCharCode(b)) ?? -1);
    }
    const sentencepiece = this.kind === 'sentencepiece';
    this.bosId = sentencepiece && pieces.length > 1 ? 1 : undefined;
    this.eosId = sentencepiece && pieces.length > 2 ? 2 : undefined;
    this.spaceId = sentencepiece ? this.byId.get(' ') : undefined;
  }

  /** Score of a piece (higher merges first). */
  score(id: number): number {
    return this.scores[this.checkId(id, 'score()')] as number;
  }

  /** The raw bytes of a piece (a copy). */
  pieceBytes(id: number): Uint8Array {
    return this.pieces[this.checkId(id, 'pieceBytes()')]?.slice() as Uint8Array;
  }

  /** The id of a piece given as text, if the vocabulary has it. */
  idOf(piece: string): number | undefined {
    return this.byId.get(binaryKey(new TextEncoder().encode(piece)));
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new SparselandError('E_PARAMS', `encode(): text must be a string, got ${describeValue(text)}`);
    const bytes = new TextEncoder().encode(text);
    const initial: number[] = [];
    // SentencePiece's dummy prefix: a space before any non-empty text.
    if (bytes.length > 0 && this.spaceId !== undefined) initial.push(this.spaceId);
    let start = 0;
    while (start < bytes.length) {
      // A codepoint: a lead byte and up to three continuation bytes (10xxxxxx), as run.c groups them.
      let end = start + 1;
      while (end < bytes.length && end - start < 4 && ((bytes[end] as number) & 0xc0) === 0x80) end++;
      const id = this.byId.get(binaryKey(bytes.subarray(start, end)));
      if (id !== undefined) initial.push(id);
      else for (let i = start; i < end; i++) initial.push(this.tokenOfByte(bytes[i] as number, text));
      start = end;
    }
    const ids = bpeMerge(
      initial,
      (id) => this.keys[id] as string,
      (key) => this.byId.get(key),
      this.scores,
    );
    if (options.bos) ids.unshift(this.requireSpecial(this.bosId, 'BOS'));
    if (options.eos) ids.push(this.requireSpecial(this.eosId, 'EOS'));
    return ids;
  }

  decode(ids: readonly number[]): string {
    if (!Array.isArray(ids) && !ArrayBuffer.isView(ids)) {
      throw new SparselandError('E_PARAMS', `decode(): expected an array of token ids, got ${describeValue(ids)}`);
    }
    const out: number[] = [];
    let atStart = true;
    for (let i = 0; i < ids.length; i++) {
      const id = this.checkId(ids[i], `decode(): ids[${i}]`);
      if (id === this.bosId) {
        atStart = true;
        continue;
      }
      if (id === this.eosId) continue;
      const byte = this.pieceByte[id] as number;
      if (byte >= 0) out.push(byte);
      else {
        const piece = this.pieces[id] as Uint8Array;
        // The dummy-prefix space of the first piece (run.c drops it after BOS; SentencePiece at the start).
        const skip = this.kind === 'sentencepiece' && atStart && piece[0] === 0x20 ? 1 : 0;
        for (let j = skip; j < piece.length; j++) out.push(piece[j] as number);
      }
      atStart = false;
    }
    return new TextDecoder('utf-8').decode(Uint8Array.from(out));
  }

  private tokenOfByte(byte: number, text: string): number {
    const id = this.byteToken[byte] as number;
    if (id >= 0) return id;
    if (this.kind === 'sentencepiece' && this.keys[0] === '<unk>') return 0;
    throw new SparselandError(
      'E_PARAMS',
      `encode(): byte 0x${byte.toString(16).padStart(2, '0')} of ${describeValue(text)} has no token in this vocabulary (no byte fallback, no <unk>)`,
    );
  }

  private requireSpecial(id: number | undefined, name: string): number {
    if (id === undefined) {
      throw new SparselandError(
        'E_PARAMS',
        `encode(): this ${this.kind} vocabulary has no ${name} token; call encode without { ${name.toLowerCase()}: true }`,
      );
    }
    return id;
  }

  private checkId(id: unknown, what: string): number {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new SparselandError('E_PARAMS', `${what} must be a token id in [0, ${this.vocabSize}), got ${describeValue(id)}`);
    }
    return id;
  }
}

/** Bytes as a string of char codes 0-255: a Map key that compares byte sequences exactly. */
function binaryKey(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i] as number);
  return s;
}
