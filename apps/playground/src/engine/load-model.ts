import type { LoadedModel } from '@sparseland/eval';
import { createModel, parseCheckpoint, parseTokenizer } from '@sparseland/model';
import { cachedBytes } from './cached-bytes.js';
import type { ModelSource } from './protocol.js';

/**
 * A model and its tokenizer from an embedded model's URLs or from dropped files. A dropped tokenizer must match the
 * checkpoint's vocabulary size (parseTokenizer checks it).
 */
export async function loadModel(source: ModelSource): Promise<LoadedModel> {
  const [checkpoint, tokenizerBytes] =
    source.kind === 'url'
      ? await Promise.all([cachedBytes(source.checkpoint), cachedBytes(source.tokenizer)])
      : [source.checkpoint, source.tokenizer];
  const weights = parseCheckpoint(checkpoint);
  const tokenizer = parseTokenizer(tokenizerBytes, weights.config.vocabSize);
  // SentencePiece vocabularies (stories260K) start passages with BOS; byte-level ones (tinybooks-2k) have none.
  return { name: source.name, model: createModel(weights), tokenizer, bos: tokenizer.kind === 'sentencepiece' };
}
