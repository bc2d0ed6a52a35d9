import { expectInteger, SparselandError } from '../errors.js';
import type { MaskShape } from '../tensor/shape.js';
import { applyCausalToDense } from './block-mask.js';
import { binarySearch, IntList, mergeSortedUnique } from './int-list.js';

export interface ColumnMaskInit {
  /** Query heads described; 1 = shared by every head. */
  readonly heads: number;
  readonly qLength: number;
  readonly kvLength: number;
  readonly qOffset: number;
  /** Query rows per block: every row of a block reads the same columns. */
  readonly blockQ: number;
  /** Row r = h·qBlocks + qb lists its key columns in cols[rowPtr[r] .. rowPtr[r+1]), strictly increasing. */
  readonly rowPtr: Int32Array;
  readonly cols: Int32Array;
}

/**
 * Individual key columns gathered per (head, query block): MInference's vertical lines, AnchorAttention's stripes.
 * Every query row in the block reads exactly those keys (clipped by causality when the call is causal).
 */
export class ColumnMask {
  readonly heads: number;
  readonly qLength: number;
  readonly kvLength: number;
  readonly qOffset: number;
  readonly blockQ: number;
  readonly qBlocks: number;
  readonly rowPtr: Int32Array;
  readonly cols: Int32Array;

  constructor(init: ColumnMaskInit, options: { trusted?: boolean } = {}) {
    this.heads = expectInteger(init.heads, 'ColumnMask heads', 1);
    this.qLength = expectInteger(init.qLength, 'ColumnMask qLength', 1);
    this.kvLength = expectInteger(init.kvLength, 'ColumnMask kvLength', 1);
    this.qOffset = expectInteger(init.qOffset, 'ColumnMask qOffset', 0);
    this.blockQ = expectInteger(init.blockQ, 'ColumnMask blockQ', 1);
    this.qBlocks = Math.ceil(this.qLength / this.blockQ);
    this.rowPtr = init.rowPtr;
    this.cols = init.cols;
    if (!options.trusted) this.check();
    Object.freeze(this);
  }

  /** Builds a ColumnMask row by row; `fillRow` appends strictly increasing key positions. */
  static build(
    shape: MaskShape,
    blockQ: number,
    options: { heads?: number; trusted?: boolean },
    fillRow: (h: number, qb: number, cols: IntList) => void,
  ): ColumnMask {
    expectInteger(blockQ, 'blockQ', 1);
    const heads = options.heads ?? shape.heads;
    const qBlocks = Math.ceil(shape.qLength / blockQ);
    const rowPtr = new Int32Array(heads * qBlocks + 1);
    const cols = new IntList(heads * qBlocks * 8);
    let r = 0;
    for (let h = 0; h < heads; h++) {
      for (let qb = 0; qb < qBlocks; qb++) {
        fillRow(h, qb, cols);
        rowPtr[++r] = cols.length;
      }
    }
    return new ColumnMask(
      { heads, qLength: shape.qLength, kvLength: shape.kvLength, qOffset: shape.qOffset, blockQ, rowPtr, cols: cols.toArray() },
      { trusted: options.trusted ?? false },
    );
  }

  get rows(): number {
    return this.heads * this.qBlocks;
  }

  rowOf(h: number, qb: number): number {
    return (this.heads === 1 ? 0 : h) * this.qBlocks + qb;
  }

  /** The key columns of (h, qb), ascending (a view, do not write). */
  columns(h: number, qb: number): Int32Array {
    const r = this.rowOf(h, qb);
    return this.cols.subarray(this.rowPtr[r], this.rowPtr[r + 1]);
  }

  /** Whether (absolute query position, key) is kept, ignoring causality. */
  contains(h: number, qPos: number, kPos: number): boolean {
    const i = qPos - this.qOffset;
    if (i < 0 || i >= this.qLength) return false;
    const r = this.rowOf(h, Math.floor(i / this.blockQ));
    return binarySearch(this.cols, this.rowPtr[r] as number, this.rowPtr[r + 1] as number, kPos) >= 0;
  }

  /** Element-level 0/1 matrix `[head][qLength][kvLength]`. */
  toDense(options: { heads?: number; causal?: boolean } = {}): Uint8Array {
    const heads = options.heads ?? this.heads;
    const out = new Uint8Array(heads * this.qLength * this.kvLength);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < this.qLength; i++) {
        const base = (h * this.qLength + i) * this.kvLength;
        for (const k of this.columns(h, Math.floor(i / this.blockQ))) out[base + k] = 1;
      }
    }
    if (options.causal) applyCausalToDense(out, heads, this.qLength, this.kvLength, this.qOffset);
    return out;
  }

  /** ASCII: one line per (head, query block) listing its columns. */
  toString(): string {
    const lines = [`ColumnMask heads=${this.heads} q=${this.qLength} kv=${this.kvLength} qOffset=${this.qOffset} blockQ=${this.blockQ}`];
    for (let h = 0; h < this.heads; h++) {
      for (let qb = 0; qb < this.qBlocks; qb++) lines.push(`h${h} qb${qb}: ${Array.from(this.columns(h, qb)).join(' ')}`);
    }
    return lines.join('\n');
  }

  get shape(): MaskShape {
    return { heads: this.heads, qLength: this.qLength, kvLength: this.kvLength, qOffset: this.qOffset };
  }

  private check(): void {
    const rows = this.rows;
    const fail = (msg: string): never => {
      throw new SparselandError('E_SHAPE', `invalid ColumnMask: ${msg}`);
    };
    if (!(this.rowPtr instanceof Int32Array) || !(this.cols instanceof Int32Array)) fail('rowPtr and cols must be Int32Arrays');
    if (this.rowPtr.length !== rows + 1) fail(`rowPtr must have heads·qBlocks + 1 = ${rows + 1} entries, got ${this.rowPtr.length}`);
    if (this.rowPtr[0] !== 0 || this.rowPtr[rows] !== this.cols.length)
      fail(`rowPtr must start at 0 and end at cols.length = ${this.cols.length}`);
    for (let r = 0; r < rows; r++) {
      const a = this.rowPtr[r] as number;
      const b = this.rowPtr[r + 1] as number;
      if (b < a) fail(`rowPtr must not decrease (row ${r})`);
      for (let p = a; p < b; p++) {
        const c = this.cols[p] as number;
        if (c < 0 || c >= this.kvLength) fail(`column ${c} in row ${r} is outside [0, ${this.kvLength})`);
        if (p > a && c <= (this.cols[p - 1] as number)) fail(`columns of row ${r} must be strictly increasing`);
      }
    }
  }
}

function expectSameColumnGeometry(a: ColumnMask, b: ColumnMask, op: string): void {
  if (a.qLength !== b.qLength || a.kvLength !== b.kvLength || a.qOffset !== b.qOffset || a.blockQ !== b.blockQ) {
    throw new SparselandError(
      'E_SHAPE',
      `${op}: column masks must share qLength, kvLength, qOffset and blockQ, got ${a.qLength}/${a.kvLength}/${a.qOffset}/${a.blockQ} and ${b.qLength}/${b.kvLength}/${b.qOffset}/${b.blockQ}`,
    );
  }
  if (a.heads !== b.heads && a.heads !== 1 && b.heads !== 1) {
    throw new SparselandError('E_SHAPE', `${op}: head counts ${a.heads} and ${b.heads} differ (one of them may be 1 to broadcast)`);
  }
}

/** Per-row union of the column lists (each key once). */
export function unionColumnMasks(a: ColumnMask, b: ColumnMask): ColumnMask {
  expectSameColumnGeometry(a, b, 'unionColumnMasks');
  return ColumnMask.build(a.shape, a.blockQ, { heads: Math.max(a.heads, b.heads), trusted: true }, (h, qb, out) =>
    mergeSortedUnique(a.columns(h, qb), b.columns(h, qb), out),
  );
}

/** Per-row intersection of the column lists. */
export function intersectColumnMasks(a: ColumnMask, b: ColumnMask): ColumnMask {
  expectSameColumnGeometry(a, b, 'intersectColumnMasks');
  return ColumnMask.build(a.shape, a.blockQ, { heads: Math.max(a.heads, b.heads), trusted: true }, (h, qb, out) => {
    const x = a.columns(h, qb);
    const y = b.columns(h, qb);
    let i = 0;
    let j = 0;
    while (i < x.length && j < y.length) {
      const u = x[i] as number;
      const v = y[j] as number;
      if (u === v) {
        out.push(u);
        i++;
        j++;
      } else if (u < v) i++;
      else j++;
    }
  });
}
