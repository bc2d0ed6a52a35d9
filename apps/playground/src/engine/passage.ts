import { isSparselandError } from '@sparseland/core';
import { type LoadedModel, passageTokens } from '@sparseland/eval';

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

/** Each token's text, for axis labels and the passage under the map. */
export function tokenPieces(model: LoadedModel, tokens: readonly number[]): string[] {
  return tokens.map((id) => model.tokenizer.decode([id]));
}
