import { loadBytes } from '../format/load-bytes.js';
import { parseTokenizer } from './parse-tokenizer.js';
import type { LlamaTokenizer } from './tokenizer.js';

/** A tokenizer file holds at most a few bytes per token of a vocabulary below 2^20: 64 MiB is far beyond any. */
export const MAX_TOKENIZER_FILE_BYTES = 64 * 2 ** 20;

/**
 * Reads and parses a llama2.c tokenizer file (a path in Node, or a URL) for a vocabulary of `vocabSize` tokens.
 * Files over MAX_TOKENIZER_FILE_BYTES and non-regular files are refused before they are read.
 */
export async function loadTokenizer(pathOrUrl: string | URL, vocabSize: number): Promise<LlamaTokenizer> {
  return parseTokenizer(await loadBytes(pathOrUrl, 'loadTokenizer()', { maxBytes: MAX_TOKENIZER_FILE_BYTES }), vocabSize);
}
