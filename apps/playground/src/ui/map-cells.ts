import type { MapView } from '../state/app-state.js';

/** The attention map pooled into display cells: what a heatmap draws for one view. */
export interface MapCells {
  readonly cols: number;
  readonly rows: number;
  /** Largest probability in each cell (a thin diagonal stays visible when zoomed out); NaN above the causal edge. */
  readonly prob: Float32Array;
  /** Fraction of the cell's causal pairs the mask keeps (absent without a mask). */
  readonly kept: Float32Array | undefined;
}

/**
 * Pools the visible part of an N×N causal map (and mask) into at most `maxCols` × `maxRows` cells, one cell per token
 * pair once zoomed in far enough.
 */
export function poolCells(
  probs: Float32Array,
  n: number,
  mask: Uint8Array | undefined,
  view: MapView,
  maxCols: number,
  maxRows: number,
): MapCells {
  const cols = Math.max(1, Math.min(view.x1 - view.x0, maxCols));
  const rows = Math.max(1, Math.min(view.y1 - view.y0, maxRows));
  const prob = new Float32Array(cols * rows).fill(Number.NaN);
  const kept = mask ? new Float32Array(cols * rows) : undefined;
  const causalCount = mask ? new Float32Array(cols * rows) : undefined;
  const colOf = new Int32Array(view.x1 - view.x0);
  for (let x = view.x0; x < view.x1; x++) colOf[x - view.x0] = Math.floor(((x - view.x0) * cols) / (view.x1 - view.x0));
  for (let y = view.y0; y < view.y1 && y < n; y++) {
    const r = Math.floor(((y - view.y0) * rows) / (view.y1 - view.y0));
    const last = Math.min(view.x1, y + 1, n);
    const base = y * n;
    for (let x = view.x0; x < last; x++) {
      const cell = r * cols + (colOf[x - view.x0] as number);
      const p = probs[base + x] as number;
      const was = prob[cell] as number;
      if (Number.isNaN(was) || p > was) prob[cell] = p;
      if (mask && kept && causalCount) {
        causalCount[cell] = (causalCount[cell] as number) + 1;
        if (mask[base + x]) kept[cell] = (kept[cell] as number) + 1;
      }
    }
  }
  if (kept && causalCount)
    for (let i = 0; i < kept.length; i++) kept[i] = causalCount[i] ? (kept[i] as number) / (causalCount[i] as number) : 0;
  return { cols, rows, prob, kept };
}
