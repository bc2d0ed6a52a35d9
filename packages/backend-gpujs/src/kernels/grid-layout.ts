/**
 * Rows of a 2D kernel output allowed before rows are packed side by side. WebGL2 outputs are textures (8,192 texels
 * per side on SwiftShader, 16,384 on most GPUs) and WebGPU dispatches at most 65,535 workgroups of 8 rows; 8,192
 * satisfies both. Packing changes only where values sit, not what is computed.
 */
export const MAX_GRID_ROWS = 8192;

/** How many `unit`-row blocks (tiles or single rows) go side by side so that `blocks · unit / perRow` ≤ MAX_GRID_ROWS. */
export function blocksPerRow(blocks: number, unit: number): number {
  return Math.max(1, Math.ceil((blocks * unit) / MAX_GRID_ROWS));
}

/** The packed grid of `items` tiles of tileQ × tileK, `perRow` tiles side by side: [width, height]. */
export function tileGridSize(items: number, tileQ: number, tileK: number, perRow: number): [number, number] {
  return [perRow * tileK, Math.ceil(items / perRow) * tileQ];
}

/** Index in a packed tile grid (row-major) of pair (row r, column c) of item p. */
export function tileGridIndex(p: number, r: number, c: number, tileQ: number, tileK: number, perRow: number): number {
  const tileRow = Math.floor(p / perRow);
  return (tileRow * tileQ + r) * perRow * tileK + (p - tileRow * perRow) * tileK + c;
}
