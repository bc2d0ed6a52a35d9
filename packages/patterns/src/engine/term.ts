/** How much of a box of (query, key) pairs a term keeps. */
export const Coverage = { none: 0, some: 1, all: 2 } as const;
export type Coverage = (typeof Coverage)[keyof typeof Coverage];

import type { IntSet } from './int-set.js';

/** Receives candidate key ranges [a, b] (inclusive positions). */
export type RangeSink = (a: number, b: number) => void;

/**
 * One ingredient of a pattern (a band of diagonals, a set of columns, a set of rows, blocks on a coarse grid...).
 * A pattern keeps a pair iff one of its terms does. Positions are absolute: query q, key k.
 */
export interface Term {
  /** Whether the term keeps (q, k). */
  has(q: number, k: number): boolean;
  /** Exactly how much of the box [q0, q1) × [k0, k1) the term keeps. */
  cover(q0: number, q1: number, k0: number, k1: number): Coverage;
  /**
   * Key ranges that contain every key some row of [q0, q1) keeps, within [0, kvLength). They may overlap and come
   * in any order; tight ranges make the builder faster, loose ones are still correct.
   */
  keyRanges(q0: number, q1: number, kvLength: number, sink: RangeSink): void;
  /**
   * Set by column terms (keys every query sees, k ≤ q when causal): the builder may gather narrow columns one by one
   * in a ColumnMask instead of computing the partial blocks they cross.
   */
  readonly columns?: { readonly keys: IntSet; readonly causal: boolean } | undefined;
}

/** Coverage of the box [q0, q1) × [k0, k1) by the causal half k ≤ q alone. */
export function causalCoverage(q0: number, q1: number, k0: number, k1: number): Coverage {
  if (k0 > q1 - 1) return Coverage.none;
  return k1 - 1 <= q0 ? Coverage.all : Coverage.some;
}
