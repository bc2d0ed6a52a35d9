import { loadBytes } from '../format/load-bytes.js';
import { parseTokenizer } from './parse-tokenizer.js';
import type { LlamaTokenizer } from './tokenizer.js';

/** Reads and parses a llama2.c tokenizer file (a path in Node, or a URL) for a vocabulary of `vocabSize` tokens. */
export async function loadTokenizer(pathOrUrl: string | URL, vocabSize: number): Promise<LlamaTokenizer> {
  return parseTokenizer(await loadBytes(pathOrUrl, 'loadTokenizer()'), vocabSize);
}
