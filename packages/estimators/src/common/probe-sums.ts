import type { ProbeSums } from '@sparseland/core/kit';

/** One query head's probe sums: views into the backend's result (writes go to it). */
export interface HeadProbeSums {
  /** Per key column, [kvLength]. */
  readonly vertical: Float64Array;
  /** Per diagonal δ = qPos − kPos at δ + slashOrigin: δ ≥ 0 are the causal diagonals (0 the main one). */
  readonly slash: Float64Array;
  readonly slashOrigin: number;
}

/** Head h's column and diagonal sums of a `lastQueriesSums` result. */
export function headProbeSums(sums: ProbeSums, h: number): HeadProbeSums {
  const { kvLength, slashLength, slashOrigin } = sums;
  return {
    vertical: sums.vertical.subarray(h * kvLength, (h + 1) * kvLength),
    slash: sums.slash.subarray(h * slashLength, (h + 1) * slashLength),
    slashOrigin,
  };
}
