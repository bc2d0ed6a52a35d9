import { SparselandError } from '@sparseland/core';
import { describeValue } from '@sparseland/core/kit';
import { DEFAULT_PALETTE, type Palette, rasterToAscii, rasterToPng, rasterToSvg } from './encode.js';
import { downsample, type RasterOptions, type RenderableMask, rasterize } from './raster.js';

export interface RenderMaskOptions extends RasterOptions {
  readonly format: 'ascii' | 'svg' | 'png';
  /** Largest picture in cells per side; bigger ones are shrunk (ascii 160, svg 512, png 1024 by default). */
  readonly maxCells?: number | undefined;
  /** Pixels per cell for svg and png (default: as many as fit in 512 pixels, at least 1). */
  readonly cellSize?: number | undefined;
  /** Colours for svg and png. */
  readonly palette?: Palette | undefined;
}

const MAX_CELLS = { ascii: 160, svg: 512, png: 1024 } as const;

/**
 * Draws a mask for docs, the CLI and the playground: ASCII or SVG text, or PNG bytes. Element level draws every pair
 * (kept / dropped); block level draws every block (full / partial / empty). Large pictures are shrunk so that a
 * cell is full only if everything under it is.
 */
export function renderMask(mask: RenderableMask, options: RenderMaskOptions & { format: 'png' }): Uint8Array;
export function renderMask(mask: RenderableMask, options: RenderMaskOptions & { format: 'ascii' | 'svg' }): string;
export function renderMask(mask: RenderableMask, options: RenderMaskOptions): string | Uint8Array;
export function renderMask(mask: RenderableMask, options: RenderMaskOptions): string | Uint8Array {
  const format = options?.format;
  if (format !== 'ascii' && format !== 'svg' && format !== 'png') {
    throw new SparselandError('E_PARAMS', `renderMask: format must be 'ascii', 'svg' or 'png', got ${describeValue(format)}`);
  }
  const maxCells = options.maxCells ?? MAX_CELLS[format];
  if (!Number.isInteger(maxCells) || maxCells < 1) {
    throw new SparselandError('E_PARAMS', `renderMask: maxCells must be an integer >= 1, got ${describeValue(maxCells)}`);
  }
  const raster = downsample(rasterize(mask, options), maxCells, maxCells);
  if (format === 'ascii') return rasterToAscii(raster);
  const cell = options.cellSize ?? Math.max(1, Math.floor(512 / Math.max(raster.rows, raster.cols)));
  if (!Number.isInteger(cell) || cell < 1 || cell > 64) {
    throw new SparselandError('E_PARAMS', `renderMask: cellSize must be an integer in [1, 64], got ${describeValue(cell)}`);
  }
  const palette = options.palette ?? DEFAULT_PALETTE;
  return format === 'svg' ? rasterToSvg(raster, cell, palette) : rasterToPng(raster, cell, palette);
}
