import { SparselandError } from '@sparseland/core';
import { expectInteger } from '@sparseland/core/kit';
import { asBytes, type BinaryInput, dataView, formatCount } from '../format/bytes.js';
import { LlamaTokenizer } from './tokenizer.js';

/** Largest max_token_length accepted: longer pieces mean a foreign or corrupt file. */
export const MAX_TOKEN_LENGTH_LIMIT = 1 << 16;
/** Largest vocabulary accepted (as for checkpoints). */
export const MAX_VOCAB_SIZE = 1 << 22;

/**
 * Parses a llama2.c tokenizer file: int32 max_token_length, then exactly `vocabSize` records of float32 score,
 * int32 length and that many bytes. The count is not in the file: take it from the model's header. Every length is
 * checked against max_token_length and the bytes left, and the records must use the whole file, so a tokenizer
 * made for another vocabulary size is caught. Failures are `E_MODEL_FORMAT`.
 */
export function parseTokenizer(input: BinaryInput, vocabSize: number): LlamaTokenizer {
  expectInteger(vocabSize, 'parseTokenizer(): vocabSize', 1, MAX_VOCAB_SIZE);
  // One copy: the tokenizer is small and must not change if the caller reuses the buffer.
  const bytes = asBytes(input, 'parseTokenizer()').slice();
  const fail = (message: string, details: Record<string, unknown> = {}): never => {
    throw new SparselandError('E_MODEL_FORMAT', `tokenizer file: ${message}`, details);
  };
  const minimum = 4 + 8 * vocabSize;
  if (bytes.byteLength < minimum) {
    fail(
      `has ${formatCount(bytes.byteLength)} bytes; ${formatCount(vocabSize)} records need at least ${formatCount(minimum)} ` +
        '(4 for max_token_length, then 8 per record before its bytes): truncated, or made for a smaller vocabulary',
      { got: bytes.byteLength, minimum },
    );
  }
  const view = dataView(bytes);
  const maxTokenLength = view.getInt32(0, true);
  if (maxTokenLength < 1 || maxTokenLength > MAX_TOKEN_LENGTH_LIMIT) {
    fail(`max_token_length is ${maxTokenLength}, expected an integer in [1, ${MAX_TOKEN_LENGTH_LIMIT}]: not a llama2.c tokenizer`);
  }
  const pieces: Uint8Array[] = [];
  const scores = new Float32Array(vocabSize);
  let offset = 4;
  for (let id = 0; id < vocabSize; id++) {
    if (offset + 8 > bytes.byteLength) {
      fail(`ends inside the header of record ${id} at byte ${formatCount(offset)}; ${formatCount(vocabSize)} records were expected`);
    }
    const score = view.getFloat32(offset, true);
    const length = view.getInt32(offset + 4, true);
    if (!Number.isFinite(score)) fail(`record ${id} has score ${score}, expected a finite number`);
    if (length < 0 || length > maxTokenLength) {
      fail(`record ${id} has length ${length}, expected 0..${maxTokenLength} (the file's max_token_length)`);
    }
    offset += 8;
    if (offset + length > bytes.byteLength) {
      fail(`record ${id} needs ${length} bytes at byte ${formatCount(offset)}, but the file ends at ${formatCount(bytes.byteLength)}`);
    }
    scores[id] = score;
    pieces.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== bytes.byteLength) {
    fail(
      `${formatCount(bytes.byteLength - offset)} bytes remain after ${formatCount(vocabSize)} records: the tokenizer has more tokens ` +
        `than the model's vocabulary (vocabSize ${formatCount(vocabSize)}), or trailing garbage`,
      { got: bytes.byteLength, used: offset },
    );
  }
  return new LlamaTokenizer(pieces, scores, maxTokenLength);
}
