import { BlockMask, ColumnMask, IntList, type MaskShape, type SparseMask } from '@sparseland/core';
import { QueryBlocks } from './geometry.js';
import { IntBuffer } from './int-buffer.js';

/** What an estimator keeps for one (head, query block) row. Order does not matter; duplicates are ignored. */
export interface RowSink {
  /** Keeps key block kb whole (the call's causality clips it at run time). */
  addBlock(kb: number): void;
  /** Keeps keys [k0, k1): whole blocks become full blocks, the edges become columns. */
  addKeys(k0: number, k1: number): void;
  /** Keeps one key column. */
  addKey(k: number): void;
}

export interface BuildOptions {
  /** Query heads described (default shape.heads; 1 shares one row set with every head). */
  readonly heads?: number;
  /** Drop what no row of a block may see (key blocks starting after the block's last query, later columns). */
  readonly causal: boolean;
  /** Turn a block whose every visible key was added as a column into a full block (default true). */
  readonly promote?: boolean;
}

/**
 * Builds a SparseMask row by row from key blocks and key columns: blocks go to a BlockMask of full blocks, columns
 * not inside a kept block go to a ColumnMask with the same blockQ. `fill(h, qb, row)` is called once per row in
 * head-major order. Exact: the mask keeps exactly the union of what was added (after causal clipping).
 */
export function buildSparseMask(
  shape: MaskShape,
  sizes: { readonly blockQ: number; readonly blockK: number },
  options: BuildOptions,
  fill: (h: number, qb: number, row: RowSink) => void,
): SparseMask {
  const { blockQ, blockK } = sizes;
  const heads = options.heads ?? shape.heads;
  const promote = options.promote ?? true;
  const blocks = new QueryBlocks(shape, blockQ, options.causal);
  const kvLength = shape.kvLength;
  const kBlocks = Math.ceil(kvLength / blockK);
  const rows = heads * blocks.count;
  const blockPtr = new Int32Array(rows + 1);
  const columnPtr = new Int32Array(rows + 1);
  const blockCols = new IntList(rows * 4);
  const columnCols = new IntList(rows * 8);
  // Epoch stamps dedupe without clearing: a slot belongs to the current row iff it holds the row's epoch.
  const blockStamp = new Int32Array(kBlocks);
  const keyStamp = new Int32Array(kvLength);
  const perBlock = new Int32Array(kBlocks);
  const countStamp = new Int32Array(kBlocks);
  const rowBlocks = new IntBuffer(64);
  const rowKeys = new IntBuffer(256);
  let epoch = 0;
  let lastKey = 0;

  const addBlock = (kb: number): void => {
    if (kb < 0 || kb >= kBlocks || kb * blockK > lastKey) return;
    if (blockStamp[kb] === epoch) return;
    blockStamp[kb] = epoch;
    rowBlocks.push(kb);
  };
  const addKey = (k: number): void => {
    if (k < 0 || k > lastKey || keyStamp[k] === epoch) return;
    keyStamp[k] = epoch;
    rowKeys.push(k);
  };
  const row: RowSink = {
    addBlock,
    addKey,
    addKeys(k0, k1) {
      const a = Math.max(0, k0);
      const b = Math.min(k1, lastKey + 1);
      if (b <= a) return;
      let k = a;
      while (k < b) {
        const kb = Math.floor(k / blockK);
        const blockStart = kb * blockK;
        const visibleEnd = Math.min((kb + 1) * blockK, lastKey + 1);
        if (k === blockStart && b >= visibleEnd) {
          addBlock(kb);
          k = visibleEnd;
          continue;
        }
        const stop = Math.min(b, (kb + 1) * blockK);
        for (; k < stop; k++) addKey(k);
      }
    },
  };

  let r = 0;
  for (let h = 0; h < heads; h++) {
    for (let qb = 0; qb < blocks.count; qb++) {
      epoch++;
      lastKey = blocks.lastKey(qb);
      rowBlocks.clear();
      rowKeys.clear();
      fill(h, qb, row);
      // Columns inside a kept block are redundant; with promotion, a block whose visible keys all came as columns
      // becomes a full block.
      let kept = 0;
      for (let p = 0; p < rowKeys.length; p++) {
        const k = rowKeys.data[p] as number;
        const kb = Math.floor(k / blockK);
        if (blockStamp[kb] === epoch) continue;
        if (promote) {
          if (countStamp[kb] !== epoch) {
            countStamp[kb] = epoch;
            perBlock[kb] = 0;
          }
          perBlock[kb] = (perBlock[kb] as number) + 1;
        }
        rowKeys.data[kept++] = k;
      }
      rowKeys.length = kept;
      if (promote && kept > 0) {
        let still = 0;
        const buf = rowKeys.data;
        for (let p = 0; p < kept; p++) {
          const k = buf[p] as number;
          const kb = Math.floor(k / blockK);
          const visible = Math.min((kb + 1) * blockK, lastKey + 1) - kb * blockK;
          if (countStamp[kb] === epoch && perBlock[kb] === visible) {
            addBlock(kb);
            continue;
          }
          buf[still++] = k;
        }
        rowKeys.length = still;
      }
      const sortedBlocks = rowBlocks.sortedCopy();
      const sortedKeys = rowKeys.sortedCopy();
      blockCols.pushAll(sortedBlocks);
      columnCols.pushAll(sortedKeys);
      r++;
      blockPtr[r] = blockCols.length;
      columnPtr[r] = columnCols.length;
    }
  }
  const geometry = { heads, qLength: shape.qLength, kvLength, qOffset: shape.qOffset };
  const out: { blocks?: BlockMask; columns?: ColumnMask } = {};
  if (blockCols.length > 0) {
    out.blocks = new BlockMask(
      {
        ...geometry,
        blockQ,
        blockK,
        full: { rowPtr: blockPtr, cols: blockCols.toArray() },
        partial: { rowPtr: new Int32Array(rows + 1), cols: new Int32Array(0) },
      },
      { trusted: true },
    );
  }
  if (columnCols.length > 0) {
    out.columns = new ColumnMask({ ...geometry, blockQ, rowPtr: columnPtr, cols: columnCols.toArray() }, { trusted: true });
  }
  return out;
}
