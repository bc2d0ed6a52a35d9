import { isSparselandError } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { MAX_MEASURE_ROUNDS, measureInRounds } from './measure-rounds.js';

describe('measureInRounds', () => {
  it('runs every case once per round, in order, and summarises each case over the timed rounds', async () => {
    // A clock that each case advances by its own time, which grows with the round: case a takes 10, 11, 12, ...,
    // case b 100, 90, 80, ... (the first round is a warmup and not counted).
    let clock = 0;
    let round = 0;
    const order: string[] = [];
    const cases = [
      async () => {
        order.push('a');
        clock += 10 + round;
      },
      () => {
        order.push('b');
        clock += 100 - 10 * round;
        round++;
      },
    ];
    const [a, b] = await measureInRounds(cases, { rounds: 4, warmups: 1, now: () => clock });
    expect(order.join('')).toBe('ababababab');
    // Timed rounds 1–4: a took 11, 12, 13, 14; b took 90, 80, 70, 60.
    expect(a).toEqual({ medianMs: 12.5, minMs: 11, maxMs: 14, runs: 4 });
    expect(b).toEqual({ medianMs: 75, minMs: 60, maxMs: 90, runs: 4 });
  });

  it('takes the middle run of an odd count', async () => {
    let clock = 0;
    const times = [7, 3, 5];
    let i = 0;
    const [t] = await measureInRounds([() => (clock += times[i++] as number)], { rounds: 3, now: () => clock });
    expect(t).toEqual({ medianMs: 5, minMs: 3, maxMs: 7, runs: 3 });
  });

  it('rejects rounds out of range, bad warmups, no options and no cases with E_PARAMS', async () => {
    const noop = () => undefined;
    for (const rounds of [0, 1.5, MAX_MEASURE_ROUNDS + 1, Number.NaN]) {
      await expect(measureInRounds([noop], { rounds })).rejects.toSatisfy((e) => isSparselandError(e, 'E_PARAMS'));
    }
    await expect(measureInRounds([noop], { rounds: 1, warmups: -1 })).rejects.toSatisfy((e) => isSparselandError(e, 'E_PARAMS'));
    await expect(measureInRounds([noop], undefined as never)).rejects.toSatisfy((e) => isSparselandError(e, 'E_PARAMS'));
    await expect(measureInRounds([], { rounds: 1 })).rejects.toSatisfy((e) => isSparselandError(e, 'E_PARAMS'));
    await expect(measureInRounds([42 as never], { rounds: 1 })).rejects.toSatisfy((e) => isSparselandError(e, 'E_PARAMS'));
  });
});
