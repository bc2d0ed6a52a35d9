import { SparselandError } from '@sparseland/core';
import { describeValue, expectInteger } from '@sparseland/core/kit';
import type { Timing } from './estimation-cost.js';

/** Rounds one `measureInRounds` call may time (each runs every case once). */
export const MAX_MEASURE_ROUNDS = 1000;

export interface RoundsOptions {
  /** Timed rounds, 1 to MAX_MEASURE_ROUNDS. */
  readonly rounds: number;
  /** Untimed rounds first (default 0). */
  readonly warmups?: number;
  /** The clock in milliseconds (default performance.now; tests pass their own). */
  readonly now?: () => number;
}

/**
 * Times several cases in rounds: each round runs every case once, in order, and each case's timing is the median,
 * minimum and maximum of its runs over the rounds. A ratio between two cases (an estimator's time over dense
 * attention's) then compares runs taken at most one round apart. Timing one case five times and then the next five
 * times compares runs minutes apart: on this project's VM, whose speed drifts by 20–40 % within minutes, the
 * estimators' shares of dense time moved by a third between two such runs of the same code.
 */
export async function measureInRounds(cases: readonly (() => unknown)[], options: RoundsOptions): Promise<Timing[]> {
  if (typeof options !== 'object' || options === null) {
    throw new SparselandError('E_PARAMS', `measureInRounds: expected options { rounds, warmups?, now? }, got ${describeValue(options)}`);
  }
  const rounds = expectInteger(options.rounds, 'measureInRounds: rounds', 1, MAX_MEASURE_ROUNDS);
  const warmups = expectInteger(options.warmups ?? 0, 'measureInRounds: warmups', 0, MAX_MEASURE_ROUNDS);
  const now = options.now ?? (() => performance.now());
  if (!Array.isArray(cases) || cases.length === 0 || cases.some((c) => typeof c !== 'function')) {
    throw new SparselandError('E_PARAMS', `measureInRounds: cases must be a non-empty array of functions, got ${describeValue(cases)}`);
  }
  const samples = cases.map(() => [] as number[]);
  for (let round = 0; round < warmups + rounds; round++) {
    for (let c = 0; c < cases.length; c++) {
      const t0 = now();
      await (cases[c] as () => unknown)();
      if (round >= warmups) samples[c]?.push(now() - t0);
    }
  }
  return samples.map((times) => {
    const sorted = times.sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    return { medianMs: median, minMs: sorted[0] as number, maxMs: sorted[sorted.length - 1] as number, runs: sorted.length };
  });
}
