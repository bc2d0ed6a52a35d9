import { isSparselandError } from '@sparseland/core';
import { type LoadedModel, passageTokens } from '@sparseland/eval';
import { BOS_ID } from '@sparseland/model';

/** The most positions the page traces: the dense oracle holds heads × N² float32 values per layer. */
export const MAX_POSITIONS = 2048;

/**
 * The passage's tokens exactly as `realTraceWorkload` cuts them (so the page and `sparseland eval` measure the same
 * thing); a text that ends before `positions` tokens gives all the tokens it has.
 */
export function passageOf(model: LoadedModel, text: string, offset: number, positions: number): number[] {
  if (!Number.isInteger(positions) || positions < 2 || positions > MAX_POSITIONS) {
    throw new Error(`positions must be an integer in [2, ${MAX_POSITIONS}], got ${positions}`);
  }
  if (text.trim().length === 0) throw new Error('the text is empty: type or paste some text, or pick a preset');
  try {
    return passageTokens(model, text, offset, positions);
  } catch (error) {
    // "the text has only N tokens from offset …": take those N.
    const available = isSparselandError(error, 'E_PARAMS') ? /has only (\d+) tokens/.exec(error.message)?.[1] : undefined;
    if (available === undefined || Number(available) < 2) throw error;
    return passageTokens(model, text, offset, Number(available));
  }
}

/**
 * Each token's text as it reads in the passage, for axis labels and the passage under the map: decoded after its
 * predecessor, because SentencePiece drops a word's leading space when the token is decoded alone.
 */
export function tokenPieces(model: LoadedModel, tokens: readonly number[]): string[] {
  const t = model.tokenizer;
  return tokens.map((id, i) => {
    if (model.bos && id === BOS_ID) return '<s>';
    const prev = tokens[i - 1];
    if (prev === undefined || (model.bos && prev === BOS_ID)) return t.decode([id]);
    return t.decode([prev, id]).slice(t.decode([prev]).length);
  });
}
