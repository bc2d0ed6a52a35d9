import { expectInteger } from './errors.js';
import { LIMITS } from './limits.js';

/**
 * Validates a user-facing seed: an integer in [0, 2^32 - 1]. NaN, fractions and larger values would otherwise be
 * folded silently by `>>> 0` (2^32 ≡ 0, 1.5 ≡ 1).
 */
export function expectSeed(seed: unknown, what = 'seed'): number {
  return expectInteger(seed, what, 0, LIMITS.seed);
}

/** A seeded pseudo-random generator: `next()` is uniform in [0, 1). Same seed, same sequence, everywhere. */
export interface Rng {
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal sample (Box-Muller). */
  normal(): number;
}

/** mulberry32: tiny, fast, and good enough for test data and seeded sampling (not for cryptography). */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  let spare: number | undefined;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal: () => {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}
