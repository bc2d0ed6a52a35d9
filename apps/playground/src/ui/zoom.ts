import type { MapView } from '../state/app-state.js';

/** Fewest tokens a view shows per side (token labels stay readable). */
export const MIN_VIEW = 8;

export function fullView(n: number): MapView {
  return { x0: 0, x1: n, y0: 0, y1: n };
}

/** A view kept inside the map, at least MIN_VIEW tokens wide (or the whole map when smaller). */
export function clampView(view: MapView, n: number): MapView {
  const fitRange = (a: number, b: number): [number, number] => {
    let size = Math.min(n, Math.max(Math.min(MIN_VIEW, n), Math.round(b - a)));
    let start = Math.round(a);
    if (start < 0) start = 0;
    if (start + size > n) start = n - size;
    size = Math.max(1, size);
    return [start, start + size];
  };
  const [x0, x1] = fitRange(view.x0, view.x1);
  const [y0, y1] = fitRange(view.y0, view.y1);
  return { x0, x1, y0, y1 };
}

/** Zooms by `factor` (< 1 zooms in) around the point (kx, qy) in token coordinates. */
export function zoomAt(view: MapView, n: number, factor: number, kx: number, qy: number): MapView {
  const x0 = kx - (kx - view.x0) * factor;
  const y0 = qy - (qy - view.y0) * factor;
  return clampView({ x0, x1: x0 + (view.x1 - view.x0) * factor, y0, y1: y0 + (view.y1 - view.y0) * factor }, n);
}

/** Moves the view by a fraction of its size. */
export function pan(view: MapView, n: number, dx: number, dy: number): MapView {
  const sx = (view.x1 - view.x0) * dx;
  const sy = (view.y1 - view.y0) * dy;
  return clampView({ x0: view.x0 + sx, x1: view.x1 + sx, y0: view.y0 + sy, y1: view.y1 + sy }, n);
}

export function isFull(view: MapView, n: number): boolean {
  return view.x0 === 0 && view.y0 === 0 && view.x1 === n && view.y1 === n;
}
