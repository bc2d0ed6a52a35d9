import { describeValue, SparselandError } from '../errors.js';

/**
 * Whether query head `h` at absolute position `qPos` may attend to the key at `kPos` (FlexAttention's mask_mod,
 * without the batch argument). Must be pure: kernels call it in any order, any number of times.
 */
export type MaskMod = (h: number, qPos: number, kPos: number) => boolean;

/**
 * Rewrites one scaled logit before the softmax (FlexAttention's score_mod): biases, soft-capping, temperatures.
 * It may return any finite number, or -Infinity to drop the pair (as FlexAttention masks with -inf); NaN and
 * +Infinity are refused with E_NONFINITE by every backend (see `expectModdedScore`).
 */
export type ScoreMod = (score: number, h: number, qPos: number, kPos: number) => number;

/**
 * The one rule for what a ScoreMod returns, applied by the reference and every backend: finite or -Infinity
 * passes through; NaN or +Infinity throws E_NONFINITE naming the pair (a NaN would otherwise silently drop the pair
 * in one kernel and poison the row in another).
 */
export function expectModdedScore(value: number, h: number, qPos: number, kPos: number): number {
  if (value - value === 0 || value === -Infinity) return value;
  throw new SparselandError(
    'E_NONFINITE',
    `scoreMod must return a finite number or -Infinity (to drop the pair), got ${value} for head ${h}, query ${qPos}, key ${kPos}`,
    { head: h, qPos, kPos },
  );
}

function expectMods(mods: readonly unknown[], combinator: string): asserts mods is readonly MaskMod[] {
  mods.forEach((m, i) => {
    if (typeof m !== 'function') {
      throw new SparselandError('E_PARAMS', `${combinator}: argument ${i} must be a MaskMod function, got ${describeValue(m)}`);
    }
  });
}

function named<T extends (...args: never[]) => unknown>(fn: T, name: string): T {
  Object.defineProperty(fn, 'name', { value: name });
  return fn;
}

/** Keeps every pair. */
export const fullMask: MaskMod = named(() => true, 'full');

/** Keeps nothing (useful in tests of empty rows). */
export const emptyMask: MaskMod = named(() => false, 'empty');

/** A query never attends to later positions. */
export const causal: MaskMod = named((_h: number, q: number, k: number) => k <= q, 'causal');

/** Element-wise intersection; with no arguments it keeps everything. */
export function and(...mods: MaskMod[]): MaskMod {
  expectMods(mods, 'and');
  if (mods.length === 0) return fullMask;
  if (mods.length === 1) return mods[0] as MaskMod;
  const list = mods.slice();
  return named(
    (h: number, q: number, k: number) => {
      for (const m of list) if (!m(h, q, k)) return false;
      return true;
    },
    `and(${list.map((m) => m.name || 'mask').join(', ')})`,
  );
}

/** Element-wise union; with no arguments it keeps nothing. */
export function or(...mods: MaskMod[]): MaskMod {
  expectMods(mods, 'or');
  if (mods.length === 0) return emptyMask;
  if (mods.length === 1) return mods[0] as MaskMod;
  const list = mods.slice();
  return named(
    (h: number, q: number, k: number) => {
      for (const m of list) if (m(h, q, k)) return true;
      return false;
    },
    `or(${list.map((m) => m.name || 'mask').join(', ')})`,
  );
}

/** Element-wise complement. */
export function not(mod: MaskMod): MaskMod {
  expectMods([mod], 'not');
  return named((h: number, q: number, k: number) => !mod(h, q, k), `not(${mod.name || 'mask'})`);
}

/** Gives a mask function a readable name (shown in errors and pictures). Returns the same function. */
export function nameMask<T extends MaskMod | ScoreMod>(mod: T, name: string): T {
  return named(mod, name);
}

/** Applies score mods left to right. */
export function composeScoreMods(...mods: ScoreMod[]): ScoreMod {
  if (mods.length === 1) return mods[0] as ScoreMod;
  const list = mods.slice();
  return named(
    (s: number, h: number, q: number, k: number) => {
      let x = s;
      for (const m of list) x = m(x, h, q, k);
      return x;
    },
    `compose(${list.map((m) => m.name || 'score').join(', ')})`,
  );
}
