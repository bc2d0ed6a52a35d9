import { BlockMask, ColumnMask, type MaskShape, type SparseMask } from '@sparseland/core';
import { IntList } from '@sparseland/core/kit';
import { QueryBlocks } from './geometry.js';

/** What an estimator keeps for one (head, query block) row. Order does not matter; duplicates are ignored. */
export interface RowSink {
  /** Keeps key block kb whole (the call's causality clips it at run time). */
  addBlock(kb: number): void;
  /** Keeps keys [k0, k1): whole blocks become full blocks, the edges become columns. */
  addKeys(k0: number, k1: number): void;
  /** Keeps one key column. */
  addKey(k: number): void;
}

/**
 * Adds the keys of the set bits of slots [from, to) to the row, as runs of consecutive keys (so whole key blocks go in
 * at once): bit (j & 31) of bits[at + (j >> 5)] is slot j, whose key is offset + j (the `atLeast` bits of a scores call).
 */
export function addBitRuns(row: RowSink, bits: Int32Array, at: number, from: number, to: number, offset = 0): void {
  if (to <= from) return;
  let runStart = -1;
  for (let w = from >> 5; w <= (to - 1) >> 5; w++) {
    const base = w << 5;
    let word = bits[at + w] as number;
    if (base < from) word &= -1 << (from - base);
    if (base + 32 > to) word &= (1 << (to - base)) - 1;
    if (word === -1) {
      if (runStart < 0) runStart = base;
      continue;
    }
    if (word === 0) {
      if (runStart >= 0) row.addKeys(offset + runStart, offset + base);
      runStart = -1;
      continue;
    }
    // Walk the word's transitions: the next set bit while outside a run, the next clear bit inside one.
    let b = 0;
    while (b < 32) {
      const rest = word >>> b;
      if (runStart < 0) {
        if (rest === 0) break;
        b += lowestBit(rest);
        runStart = base + b;
      } else {
        const clear = ~rest;
        if (clear === 0) break;
        b += lowestBit(clear);
        if (b < 32) {
          row.addKeys(offset + runStart, offset + base + b);
          runStart = -1;
        }
      }
    }
  }
  if (runStart >= 0) row.addKeys(offset + runStart, offset + to);
}

/** Index of the lowest set bit of a non-zero 32-bit integer. */
function lowestBit(x: number): number {
  return 31 - Math.clz32(x & -x);
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
  const builder = new SparseMaskBuilder(shape, sizes, options);
  for (let h = 0; h < builder.heads; h++) {
    for (let qb = 0; qb < builder.qBlocks; qb++) builder.row(h, qb, (row) => fill(h, qb, row));
  }
  return builder.finish();
}

/**
 * `buildSparseMask` one row at a time, in any order, so an estimator can produce its rows as its scores arrive (and
 * drop them) instead of storing every row's choice first: call `row(h, qb, fill)` once for every (head, query block),
 * then `finish()`.
 */
export class SparseMaskBuilder {
  readonly heads: number;
  readonly qBlocks: number;
  private readonly blockQ: number;
  private readonly blockK: number;
  private readonly kvLength: number;
  private readonly kBlocks: number;
  private readonly promote: boolean;
  private readonly blocks: QueryBlocks;
  /** Per row (h · qBlocks + qb): its sorted key blocks and its sorted columns. */
  private readonly rowBlockLists: (Int32Array | undefined)[];
  private readonly rowColumnLists: (Int32Array | undefined)[];
  // Epoch stamps dedupe without clearing: a slot belongs to the current row iff it holds the row's epoch.
  private readonly blockStamp: Int32Array;
  private readonly keyStamp: Int32Array;
  private readonly perBlock: Int32Array;
  private readonly countStamp: Int32Array;
  private readonly rowBlocks = new IntList(64);
  private readonly rowKeys = new IntList(256);
  private epoch = 0;
  private lastKey = 0;
  private filled = 0;
  private readonly sink: RowSink;

  constructor(
    private readonly shape: MaskShape,
    sizes: { readonly blockQ: number; readonly blockK: number },
    options: BuildOptions,
  ) {
    this.blockQ = sizes.blockQ;
    this.blockK = sizes.blockK;
    this.heads = options.heads ?? shape.heads;
    this.promote = options.promote ?? true;
    this.blocks = new QueryBlocks(shape, this.blockQ, options.causal);
    this.qBlocks = this.blocks.count;
    this.kvLength = shape.kvLength;
    this.kBlocks = Math.ceil(this.kvLength / this.blockK);
    const rows = this.heads * this.qBlocks;
    this.rowBlockLists = new Array(rows);
    this.rowColumnLists = new Array(rows);
    this.blockStamp = new Int32Array(this.kBlocks);
    this.keyStamp = new Int32Array(this.kvLength);
    this.perBlock = new Int32Array(this.kBlocks);
    this.countStamp = new Int32Array(this.kBlocks);
    this.sink = {
      addBlock: (kb) => this.addBlock(kb),
      addKey: (k) => this.addKey(k),
      addKeys: (k0, k1) => this.addKeys(k0, k1),
    };
  }

  private addBlock(kb: number): void {
    if (kb < 0 || kb >= this.kBlocks || kb * this.blockK > this.lastKey) return;
    if (this.blockStamp[kb] === this.epoch) return;
    this.blockStamp[kb] = this.epoch;
    this.rowBlocks.push(kb);
  }

  private addKey(k: number): void {
    if (k < 0 || k > this.lastKey || this.keyStamp[k] === this.epoch) return;
    this.keyStamp[k] = this.epoch;
    this.rowKeys.push(k);
    this.countKey(Math.floor(k / this.blockK));
  }

  /** One more distinct column in key block kb (for promotion). */
  private countKey(kb: number): void {
    if (this.countStamp[kb] !== this.epoch) {
      this.countStamp[kb] = this.epoch;
      this.perBlock[kb] = 1;
    } else this.perBlock[kb] = (this.perBlock[kb] as number) + 1;
  }

  private addKeys(k0: number, k1: number): void {
    const { blockK, lastKey, keyStamp, epoch, rowKeys } = this;
    const a = Math.max(0, k0);
    const b = Math.min(k1, lastKey + 1);
    let k = a;
    while (k < b) {
      const kb = Math.floor(k / blockK);
      const blockStart = kb * blockK;
      const visibleEnd = Math.min(blockStart + blockK, lastKey + 1);
      if (k === blockStart && b >= visibleEnd) {
        this.addBlock(kb);
        k = visibleEnd;
        continue;
      }
      // Part of a block: its keys as columns (counted once each for promotion).
      const stop = Math.min(b, blockStart + blockK);
      let added = 0;
      for (; k < stop; k++) {
        if (keyStamp[k] === epoch) continue;
        keyStamp[k] = epoch;
        rowKeys.push(k);
        added++;
      }
      if (added > 0) {
        if (this.countStamp[kb] !== epoch) {
          this.countStamp[kb] = epoch;
          this.perBlock[kb] = added;
        } else this.perBlock[kb] = (this.perBlock[kb] as number) + added;
      }
    }
  }

  /** Fills row (h, qb): `fill` adds what the row keeps. Each row once. */
  row(h: number, qb: number, fill: (row: RowSink) => void): void {
    const { blockK, blockStamp, countStamp, perBlock, rowBlocks, rowKeys } = this;
    const r = h * this.qBlocks + qb;
    if (!(h >= 0 && h < this.heads && qb >= 0 && qb < this.qBlocks) || this.rowBlockLists[r] !== undefined) {
      throw new Error(`SparseMaskBuilder: row (${h}, ${qb}) is outside the mask or was filled before`);
    }
    const epoch = ++this.epoch;
    this.lastKey = this.blocks.lastKey(qb);
    const lastKey = this.lastKey;
    rowBlocks.clear();
    rowKeys.clear();
    fill(this.sink);
    // One pass over the columns: those inside a kept block are redundant; with promotion, a block whose visible keys
    // all came as columns becomes a full block (its columns are dropped). Order is kept.
    if (rowKeys.length > 0) {
      const buf = rowKeys.data;
      let kept = 0;
      for (let p = 0; p < rowKeys.length; p++) {
        const k = buf[p] as number;
        const kb = Math.floor(k / blockK);
        if (blockStamp[kb] === epoch) continue;
        if (this.promote && countStamp[kb] === epoch && perBlock[kb] === Math.min(blockK, lastKey + 1 - kb * blockK)) {
          this.addBlock(kb);
          continue;
        }
        buf[kept++] = k;
      }
      rowKeys.truncate(kept);
    }
    this.rowBlockLists[r] = rowBlocks.sortedCopy();
    this.rowColumnLists[r] = rowKeys.sortedCopy();
    this.filled++;
  }

  /** The mask of every row filled so far (all rows must have been filled). */
  finish(): SparseMask {
    const { shape, heads, kvLength, blockQ, blockK } = this;
    const rows = heads * this.qBlocks;
    if (this.filled !== rows) throw new Error(`SparseMaskBuilder: ${this.filled} of ${rows} rows filled`);
    const blocks = concatRows(this.rowBlockLists);
    const columns = concatRows(this.rowColumnLists);
    const geometry = { heads, qLength: shape.qLength, kvLength, qOffset: shape.qOffset };
    const out: { blocks?: BlockMask; columns?: ColumnMask } = {};
    if (blocks.cols.length > 0) {
      out.blocks = new BlockMask(
        {
          ...geometry,
          blockQ,
          blockK,
          full: blocks,
          partial: { rowPtr: new Int32Array(rows + 1), cols: new Int32Array(0) },
        },
        { trusted: true },
      );
    }
    if (columns.cols.length > 0) {
      out.columns = new ColumnMask({ ...geometry, blockQ, ...columns }, { trusted: true });
    }
    return out;
  }
}

/** Per-row lists as CSR (rowPtr, cols). */
function concatRows(lists: readonly (Int32Array | undefined)[]): { rowPtr: Int32Array; cols: Int32Array } {
  const rowPtr = new Int32Array(lists.length + 1);
  for (let r = 0; r < lists.length; r++) rowPtr[r + 1] = (rowPtr[r] as number) + (lists[r] as Int32Array).length;
  const cols = new Int32Array(rowPtr[lists.length] as number);
  for (let r = 0; r < lists.length; r++) cols.set(lists[r] as Int32Array, rowPtr[r] as number);
  return { rowPtr, cols };
}
