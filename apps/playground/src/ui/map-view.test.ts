import { describe, expect, it } from 'vitest';
import { poolCells } from './map-cells.js';
import { lutOf, paintCells } from './map-paint.js';
import { tokenLabel } from './token-labels.js';
import { clampView, fullView, isFull, MIN_VIEW, pan, zoomAt } from './zoom.js';

describe('zoom', () => {
  it('zooms around a point and back out to the whole map', () => {
    const n = 2048;
    const v = zoomAt(fullView(n), n, 0.5, 1024, 1024);
    expect(v).toEqual({ x0: 512, x1: 1536, y0: 512, y1: 1536 });
    expect(isFull(zoomAt(v, n, 4, 1024, 1024), n)).toBe(true);
  });

  it('stays inside the map and at least MIN_VIEW tokens wide', () => {
    expect(clampView({ x0: -50, x1: 10, y0: 2040, y1: 2100 }, 2048)).toEqual({ x0: 0, x1: 60, y0: 1988, y1: 2048 });
    const tiny = zoomAt(fullView(100), 100, 0.01, 50, 50);
    expect(tiny.x1 - tiny.x0).toBe(MIN_VIEW);
    expect(pan({ x0: 0, x1: 10, y0: 0, y1: 10 }, 100, -1, 0).x0).toBe(0);
    expect(clampView({ x0: 0, x1: 50, y0: 0, y1: 50 }, 4)).toEqual(fullView(4));
  });
});

describe('map cells', () => {
  // A 4×4 causal map: row i has probability 1/(i+1) on keys 0..i.
  const n = 4;
  const probs = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) probs[i * n + j] = 1 / (i + 1);
  const mask = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) mask[i * n + i] = 1;

  it('one cell per pair when the view is small: NaN above the causal edge, the mask as 0/1', () => {
    const c = poolCells(probs, n, mask, fullView(n), 100, 100);
    expect([c.cols, c.rows]).toEqual([4, 4]);
    expect(c.prob[1]).toBeNaN();
    expect(c.prob[4 * 3 + 2]).toBeCloseTo(0.25);
    expect(Array.from(c.kept ?? [])).toEqual(Array.from(mask));
  });

  it('pooled cells keep the largest probability and the kept fraction of causal pairs', () => {
    const c = poolCells(probs, n, mask, fullView(n), 2, 2);
    expect(c.prob[0]).toBeCloseTo(1);
    expect(c.prob[1]).toBeNaN();
    expect(c.prob[3]).toBeCloseTo(1 / 3);
    // Bottom-left cell: rows 2-3, keys 0-1: 4 causal pairs, none kept; bottom-right: rows 2-3, keys 2-3: 3, 2 kept.
    expect(c.kept?.[2]).toBe(0);
    expect(c.kept?.[3]).toBeCloseTo(2 / 3);
  });

  it('paints through the colour ramp, tints kept cells, leaves non-causal cells transparent', () => {
    const lut = lutOf((v) => (v >= 0.5 ? 'rgb(0, 0, 0)' : 'rgb(255, 255, 255)'));
    const c = poolCells(probs, n, mask, fullView(n), 100, 100);
    const out = new Uint8ClampedArray(n * n * 4);
    paintCells(c, lut, [255, 0, 0], out);
    expect(Array.from(out.slice(4, 8))).toEqual([0, 0, 0, 0]);
    // (1, 0): p = 0.5 → black, not kept.
    expect(Array.from(out.slice(16, 20))).toEqual([0, 0, 0, 255]);
    // (3, 3): p = 0.25 → white, kept → red tint (green and blue multiplied by 1 − 0.6).
    expect(Array.from(out.slice(60, 64))).toEqual([255, 102, 102, 255]);
  });
});

describe('token labels', () => {
  it('makes whitespace visible and cuts long pieces', () => {
    expect(tokenLabel(' the')).toBe('␣the');
    expect(tokenLabel('\r\n')).toBe('↵');
    expect(tokenLabel('\u0001')).toBe('·');
    expect(tokenLabel('')).toBe('∅');
    expect(tokenLabel('extraordinary')).toBe('extraor…');
  });
});
