/**
 * Per-thread scratch of the kernels, in f32 elements; the same formula as assembly/kernels.ts (a test checks they
 * agree). dp is the head dim padded to a multiple of 4.
 */
export const TILE = 64;

export interface ScratchLayout {
  readonly qs: number;
  readonly acc: number;
  readonly s: number;
  readonly m: number;
  readonly l: number;
  readonly pos: number;
  readonly kg: number;
  readonly vg: number;
  readonly gpos: number;
}

/** Offsets of the scratch areas of a thread whose scratch starts at `scr`. */
export function scratchLayout(scr: number, dp: number): ScratchLayout {
  const qs = scr;
  const acc = scr + TILE * dp;
  const s = scr + 2 * TILE * dp;
  const m = s + TILE * TILE;
  const kg = m + 3 * TILE;
  const vg = kg + TILE * dp;
  return { qs, acc, s, m, l: m + TILE, pos: m + 2 * TILE, kg, vg, gpos: vg + TILE * dp };
}

/** Floats of scratch one thread needs (plus 64 of slack so 4-row and 8-key reads past the end stay inside). */
export function scratchFloats(dp: number): number {
  return 4 * TILE * dp + TILE * TILE + 4 * TILE;
}

/** Head dim padded to the SIMD width (4 lanes). */
export function paddedDim(dim: number): number {
  return (dim + 3) & ~3;
}
