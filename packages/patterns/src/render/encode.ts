import { encode } from 'fast-png';
import { Cell, type MaskRaster } from './raster.js';

/** Text picture: element level `#` kept, `.` dropped; block level `#` full, `+` partial, `.` empty. */
export function rasterToAscii(raster: MaskRaster): string {
  const glyph = ['.', '+', '#'];
  const lines = [`${raster.title} level=${raster.level}`];
  for (let r = 0; r < raster.rows; r++) {
    let line = '';
    for (let c = 0; c < raster.cols; c++) line += glyph[raster.cells[r * raster.cols + c] as number];
    lines.push(line);
  }
  return `${lines.join('\n')}\n`;
}

/** Colours of full, partial and empty cells (RGB). */
export interface Palette {
  readonly full: readonly [number, number, number];
  readonly partial: readonly [number, number, number];
  readonly empty: readonly [number, number, number];
}

export const DEFAULT_PALETTE: Palette = { full: [31, 78, 121], partial: [127, 179, 224], empty: [255, 255, 255] };

const hex = (rgb: readonly [number, number, number]) => `#${rgb.map((x) => x.toString(16).padStart(2, '0')).join('')}`;

/** SVG picture: one rectangle per horizontal run of equal non-empty cells, `cell` pixels per cell. */
export function rasterToSvg(raster: MaskRaster, cell: number, palette: Palette = DEFAULT_PALETTE): string {
  const width = raster.cols * cell;
  const height = raster.rows * cell;
  const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" shape-rendering="crispEdges">`,
    `<title>${escapeXml(`${raster.title} level=${raster.level}`)}</title>`,
    `<rect width="${width}" height="${height}" fill="${hex(palette.empty)}"/>`,
  ];
  for (let r = 0; r < raster.rows; r++) {
    let c = 0;
    while (c < raster.cols) {
      const s = raster.cells[r * raster.cols + c] as number;
      let end = c + 1;
      while (end < raster.cols && raster.cells[r * raster.cols + end] === s) end++;
      if (s !== Cell.empty) {
        const fill = hex(s === Cell.full ? palette.full : palette.partial);
        parts.push(`<rect x="${c * cell}" y="${r * cell}" width="${(end - c) * cell}" height="${cell}" fill="${fill}"/>`);
      }
      c = end;
    }
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** PNG picture (RGB, 8 bits), `cell` pixels per cell, encoded by fast-png. */
export function rasterToPng(raster: MaskRaster, cell: number, palette: Palette = DEFAULT_PALETTE): Uint8Array {
  const width = raster.cols * cell;
  const height = raster.rows * cell;
  const data = new Uint8Array(width * height * 3);
  const colours = [palette.empty, palette.partial, palette.full];
  for (let y = 0; y < height; y++) {
    const r = Math.floor(y / cell);
    for (let x = 0; x < width; x++) {
      const rgb = colours[raster.cells[r * raster.cols + Math.floor(x / cell)] as number] as readonly number[];
      const at = (y * width + x) * 3;
      data[at] = rgb[0] as number;
      data[at + 1] = rgb[1] as number;
      data[at + 2] = rgb[2] as number;
    }
  }
  return encode({ width, height, data, depth: 8, channels: 3, text: { Title: raster.title } });
}
