import type { MapCells } from './map-cells.js';

/** Probabilities below this are drawn as the lightest grey (the colour scale is log10 over [1e-4, 1]). */
export const MAP_DOMAIN: readonly [number, number] = [1e-4, 1];
/** How strongly a fully kept cell is tinted. */
export const KEPT_ALPHA = 0.6;

/** A colour ramp sampled at 256 steps: [r, g, b] per step. */
export type Lut = Uint8ClampedArray;

/** Samples a colour function (e.g. an Observable Plot scale) at 256 log-spaced points of MAP_DOMAIN. */
export function lutOf(colour: (value: number) => string): Lut {
  const lut = new Uint8ClampedArray(256 * 3);
  const [lo, hi] = MAP_DOMAIN.map(Math.log10) as [number, number];
  for (let i = 0; i < 256; i++) {
    const m = /(\d+(?:\.\d+)?)\D+(\d+(?:\.\d+)?)\D+(\d+(?:\.\d+)?)/.exec(colour(10 ** (lo + ((hi - lo) * i) / 255)) ?? '');
    lut.set(m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0], i * 3);
  }
  return lut;
}

/**
 * Paints pooled cells into RGBA pixels: the probability through the LUT (log scale), multiplied by the kept colour
 * in proportion to the kept fraction (so the grey structure shows through the tint); cells above the causal edge
 * stay transparent.
 */
export function paintCells(cells: MapCells, lut: Lut, kept: readonly [number, number, number], out: Uint8ClampedArray): void {
  const [lo, hi] = MAP_DOMAIN.map(Math.log10) as [number, number];
  const scale = 255 / (hi - lo);
  for (let i = 0; i < cells.prob.length; i++) {
    const p = cells.prob[i] as number;
    const j = i * 4;
    if (Number.isNaN(p)) {
      out[j + 3] = 0;
      continue;
    }
    const step = p <= 0 ? 0 : Math.max(0, Math.min(255, Math.round((Math.log10(p) - lo) * scale)));
    let r = lut[step * 3] as number;
    let g = lut[step * 3 + 1] as number;
    let b = lut[step * 3 + 2] as number;
    const a = cells.kept ? KEPT_ALPHA * (cells.kept[i] as number) : 0;
    if (a > 0) {
      r *= 1 - a + (a * kept[0]) / 255;
      g *= 1 - a + (a * kept[1]) / 255;
      b *= 1 - a + (a * kept[2]) / 255;
    }
    out[j] = r;
    out[j + 1] = g;
    out[j + 2] = b;
    out[j + 3] = 255;
  }
}
