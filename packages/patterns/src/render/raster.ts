import {
  BlockMask,
  ColumnMask,
  createBlockMask,
  DEFAULT_BLOCK,
  type MaskMod,
  type MaskShape,
  SparselandError,
  type SparseMask,
  toSparseMask,
} from '@sparseland/core';
import { describeValue, fillRowMembership } from '@sparseland/core/kit';
import { expectMaskShape } from '../engine/pattern-instance.js';

/** Anything renderMask draws. A MaskMod needs `shape`. */
export type RenderableMask = SparseMask | BlockMask | ColumnMask | MaskMod;

/** Cell states of a picture: a dropped pair or empty block, a partial block, a kept pair or full block. */
export const Cell = { empty: 0, partial: 1, full: 2 } as const;

/** A picture before encoding: rows × cols cells (row-major) and what one cell stands for. */
export interface MaskRaster {
  readonly rows: number;
  readonly cols: number;
  readonly cells: Uint8Array;
  readonly level: 'element' | 'block';
  /** Query rows and keys one cell covers (1 × 1 at element level, the block size or more at block level). */
  readonly cellQ: number;
  readonly cellK: number;
  readonly title: string;
}

export interface RasterOptions {
  /** The geometry (required for a MaskMod; defaults to the mask's own). */
  readonly shape?: MaskShape | undefined;
  /** `element`: one cell per pair; `block`: one per block; `auto` (default): element up to `maxElementCells`. */
  readonly level?: 'auto' | 'element' | 'block' | undefined;
  /** Query head to draw (default 0). */
  readonly head?: number | undefined;
  /** Drop pairs after the query, as a causal call would (default false). */
  readonly causal?: boolean | undefined;
  /** Block sizes for masks that have none (a MaskMod or a ColumnMask), default 64. */
  readonly blockQ?: number | undefined;
  readonly blockK?: number | undefined;
  /** Largest qLength·kvLength drawn pair by pair under `auto` (default 65,536). */
  readonly maxElementCells?: number | undefined;
}

/** Turns any mask into a grid of cell states for one head. */
export function rasterize(mask: RenderableMask, options: RasterOptions = {}): MaskRaster {
  const shape = resolveShape(mask, options.shape);
  const head = options.head ?? 0;
  if (!Number.isInteger(head) || head < 0 || head >= shape.heads) {
    throw new SparselandError('E_PARAMS', `renderMask: head must be an integer in [0, ${shape.heads}), got ${describeValue(head)}`);
  }
  const causal = options.causal ?? false;
  const level = options.level ?? 'auto';
  if (level !== 'auto' && level !== 'element' && level !== 'block') {
    throw new SparselandError('E_PARAMS', `renderMask: level must be 'auto', 'element' or 'block', got ${describeValue(level)}`);
  }
  const elementCells = shape.qLength * shape.kvLength;
  const element = level === 'element' || (level === 'auto' && elementCells <= (options.maxElementCells ?? 65536));
  const name = kindOf(mask);
  const title = `${name} head=${head} q=${shape.qLength} kv=${shape.kvLength} qOffset=${shape.qOffset}${causal ? ' causal' : ''}`;
  if (element) {
    if (elementCells > 2 ** 26) {
      throw new SparselandError('E_PARAMS', `renderMask: ${elementCells} pairs are too many to draw one by one; use level 'block'`);
    }
    return { ...elementRaster(mask, shape, head, causal), level: 'element', cellQ: 1, cellK: 1, title };
  }
  return blockRaster(mask, shape, head, causal, options, title);
}

function kindOf(mask: RenderableMask): string {
  if (typeof mask === 'function') return `MaskMod${mask.name ? ` ${mask.name}` : ''}`;
  if (mask instanceof BlockMask) return 'BlockMask';
  if (mask instanceof ColumnMask) return 'ColumnMask';
  return 'SparseMask';
}

function resolveShape(mask: RenderableMask, shape: MaskShape | undefined): MaskShape {
  if (shape !== undefined) return expectMaskShape(shape, 'renderMask');
  if (typeof mask === 'function') {
    throw new SparselandError('E_PARAMS', 'renderMask: a MaskMod has no geometry; pass options.shape {heads, qLength, kvLength, qOffset}');
  }
  if (mask instanceof BlockMask || mask instanceof ColumnMask) return mask.shape;
  const part = (mask as SparseMask)?.blocks ?? (mask as SparseMask)?.columns;
  if (!part) {
    throw new SparselandError(
      'E_PARAMS',
      `renderMask: expected a SparseMask, BlockMask, ColumnMask or MaskMod (with options.shape), got ${describeValue(mask)}`,
    );
  }
  return part.shape;
}

function elementRaster(mask: RenderableMask, shape: MaskShape, head: number, causal: boolean): Pick<MaskRaster, 'rows' | 'cols' | 'cells'> {
  const { qLength, kvLength, qOffset } = shape;
  const cells = new Uint8Array(qLength * kvLength);
  if (typeof mask === 'function') {
    for (let i = 0; i < qLength; i++) {
      const q = qOffset + i;
      for (let k = 0; k < kvLength; k++) if ((!causal || k <= q) && mask(head, q, k)) cells[i * kvLength + k] = Cell.full;
    }
  } else {
    const sparse = toSparseMask(mask, shape);
    const row = new Uint8Array(kvLength);
    for (let i = 0; i < qLength; i++) {
      fillRowMembership(sparse, head, i, qOffset, causal, row);
      for (let k = 0; k < kvLength; k++) if (row[k]) cells[i * kvLength + k] = Cell.full;
    }
  }
  return { rows: qLength, cols: kvLength, cells };
}

function blockRaster(
  mask: RenderableMask,
  shape: MaskShape,
  head: number,
  causal: boolean,
  options: RasterOptions,
  title: string,
): MaskRaster {
  const blockQ = options.blockQ ?? DEFAULT_BLOCK;
  const blockK = options.blockK ?? DEFAULT_BLOCK;
  let blocks: BlockMask | undefined;
  let columns: ColumnMask | undefined;
  if (typeof mask === 'function') {
    const one = { ...shape, heads: 1 };
    blocks = createBlockMask((_h, q, k) => mask(head, q, k), one, { blockQ, blockK });
  } else {
    const sparse = toSparseMask(mask, shape);
    blocks = sparse.blocks;
    columns = sparse.columns;
  }
  const bq = blocks?.blockQ ?? columns?.blockQ ?? blockQ;
  const bk = blocks?.blockK ?? blockK;
  const rows = Math.ceil(shape.qLength / bq);
  const cols = Math.ceil(shape.kvLength / bk);
  const cells = new Uint8Array(rows * cols);
  if (blocks) {
    for (let qb = 0; qb < rows; qb++) {
      for (const kb of blocks.partialBlocks(head, qb)) cells[qb * cols + kb] = Cell.partial;
      for (const kb of blocks.fullBlocks(head, qb)) cells[qb * cols + kb] = Cell.full;
    }
  }
  if (columns) {
    // Key blocks that a query block reads single columns from are drawn partial (unless already full).
    for (let qb = 0; qb < rows; qb++) {
      const i0 = qb * bq;
      const i1 = Math.min(shape.qLength, i0 + bq) - 1;
      for (let cqb = Math.floor(i0 / columns.blockQ); cqb <= Math.floor(i1 / columns.blockQ); cqb++) {
        for (const k of columns.columns(head, cqb)) {
          const at = qb * cols + Math.floor(k / bk);
          if (cells[at] === Cell.empty) cells[at] = Cell.partial;
        }
      }
    }
  }
  if (causal) {
    for (let qb = 0; qb < rows; qb++) {
      const lastQ = shape.qOffset + Math.min(shape.qLength, (qb + 1) * bq) - 1;
      const firstQ = shape.qOffset + qb * bq;
      for (let kb = 0; kb < cols; kb++) {
        const at = qb * cols + kb;
        if (kb * bk > lastQ) cells[at] = Cell.empty;
        else if (cells[at] === Cell.full && Math.min(shape.kvLength, (kb + 1) * bk) - 1 > firstQ) cells[at] = Cell.partial;
      }
    }
  }
  return { rows, cols, cells, level: 'block', cellQ: bq, cellK: bk, title: `${title} block=${bq}x${bk}` };
}

/**
 * Shrinks a raster so it has at most `maxRows` × `maxCols` cells: each new cell is full if everything it covers is
 * full, empty if everything is empty, and partial otherwise.
 */
export function downsample(raster: MaskRaster, maxRows: number, maxCols: number): MaskRaster {
  const fy = Math.ceil(raster.rows / maxRows);
  const fx = Math.ceil(raster.cols / maxCols);
  if (fy <= 1 && fx <= 1) return raster;
  const rows = Math.ceil(raster.rows / fy);
  const cols = Math.ceil(raster.cols / fx);
  const cells = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let full = true;
      let any = false;
      for (let y = r * fy; y < Math.min(raster.rows, (r + 1) * fy); y++) {
        for (let x = c * fx; x < Math.min(raster.cols, (c + 1) * fx); x++) {
          const s = raster.cells[y * raster.cols + x] as number;
          if (s !== Cell.full) full = false;
          if (s !== Cell.empty) any = true;
        }
      }
      cells[r * cols + c] = full ? Cell.full : any ? Cell.partial : Cell.empty;
    }
  }
  return {
    ...raster,
    rows,
    cols,
    cells,
    cellQ: raster.cellQ * fy,
    cellK: raster.cellK * fx,
    title: `${raster.title} (${fy}x${fx} cells each)`,
  };
}
