import { LIMITS } from '@sparseland/core';
import { describeValue, expectSeed } from '@sparseland/core/kit';
import { WORKLOAD_LIMITS } from '@sparseland/eval';
import { UsageError } from './exit-codes.js';

/**
 * The largest value of every size the command line takes. Past one, the command exits 2 ([E_USAGE] or [E_PARAMS])
 * before any work starts. Lengths follow eval's `WORKLOAD_LIMITS`, heads, layers and seeds core's `LIMITS`.
 */
export const CLI_LIMITS = Object.freeze({
  /** `--n`, `--positions`, `--lengths`, `synthetic:<n>`, `mqar:<n>`: 131,072 positions. */
  length: WORKLOAD_LIMITS.length,
  /** `mask --heads`: query heads of the synthetic input (n · heads · 32 must also stay within core's LIMITS). */
  heads: LIMITS.heads,
  /** `--rows`: query rows measured per layer. */
  rows: WORKLOAD_LIMITS.length,
  /** `--greedy`: greedy tokens compared end to end (also at most positions − 2). */
  greedy: 4096,
  /** `--offset`: a character offset into the text (the text's own length bounds it further). */
  offset: 2 ** 31 - 1,
  /** `--blocks QxK`: each block side. */
  block: 4096,
  /** `--seed`: 32-bit unsigned. */
  seed: LIMITS.seed,
});

/** A decimal integer in [min, max] from the command line: exit 2 naming the flag, the range and what came. */
export function parseInteger(text: string, what: string, min: number, max: number): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${what} must be an integer in [${min}, ${max}], got ${describeValue(text)}`);
  }
  return n;
}

/** A seed from the command line: a decimal integer that core's `expectSeed` accepts (0 to 2^32 − 1). */
export function parseSeed(text: string, what = '--seed'): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new UsageError(`${what} must be an integer in [0, ${LIMITS.seed}], got ${describeValue(text)}`);
  return expectSeed(Number(text), what);
}

/** A user's text in a message: quoted, cut short when long. */
export function quote(text: string): string {
  return describeValue(text);
}
