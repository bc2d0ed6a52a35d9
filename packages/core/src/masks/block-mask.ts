import { expectInteger, SparselandError } from '../errors.js';
import type { MaskShape } from '../tensor/shape.js';
import { binarySearch } from './int-list.js';
import type { MaskMod } from './mask-mod.js';

/** What a block is in a BlockMask: skipped, computed with the mask's MaskMod, or computed whole. */
export const BlockState = { empty: 0, partial: 1, full: 2 } as const;
export type BlockState = (typeof BlockState)[keyof typeof BlockState];

/** Compressed rows of block indices: row r's key blocks are `cols[rowPtr[r] .. rowPtr[r+1])`, ascending. */
export interface BlockRows {
  readonly rowPtr: Int32Array;
  readonly cols: Int32Array;
}

export interface BlockMaskInit {
  /** Query heads described; 1 means one mask shared by every head (broadcast). */
  readonly heads: number;
  readonly qLength: number;
  readonly kvLength: number;
  readonly qOffset: number;
  readonly blockQ: number;
  readonly blockK: number;
  /** Rows are (head, query block) in head-major order: row = h·qBlocks + qb. */
  readonly full: BlockRows;
  readonly partial: BlockRows;
  /** Decides pairs inside partial blocks (absolute positions). Required when any block is partial. */
  readonly maskMod?: MaskMod | undefined;
}

/**
 * FlexAttention's block-CSR mask. Query rows are cut into blocks of `blockQ` (row i is in block ⌊i / blockQ⌋,
 * at absolute position qOffset + i), keys into blocks of `blockK`. For every (head, query block) it lists **full**
 * key blocks (every pair kept, no per-element test) and **partial** key blocks (pairs kept where `maskMod` says so).
 * Pairs outside qLength × kvLength never exist. Causality is not part of the mask: a causal call clips every block.
 */
export class BlockMask {
  readonly heads: number;
  readonly qLength: number;
  readonly kvLength: number;
  readonly qOffset: number;
  readonly blockQ: number;
  readonly blockK: number;
  readonly qBlocks: number;
  readonly kBlocks: number;
  readonly full: BlockRows;
  readonly partial: BlockRows;
  readonly maskMod: MaskMod | undefined;

  constructor(init: BlockMaskInit, options: { trusted?: boolean } = {}) {
    this.heads = expectInteger(init.heads, 'BlockMask heads', 1);
    this.qLength = expectInteger(init.qLength, 'BlockMask qLength', 1);
    this.kvLength = expectInteger(init.kvLength, 'BlockMask kvLength', 1);
    this.qOffset = expectInteger(init.qOffset, 'BlockMask qOffset', 0);
    this.blockQ = expectInteger(init.blockQ, 'BlockMask blockQ', 1);
    this.blockK = expectInteger(init.blockK, 'BlockMask blockK', 1);
    this.qBlocks = Math.ceil(this.qLength / this.blockQ);
    this.kBlocks = Math.ceil(this.kvLength / this.blockK);
    this.full = init.full;
    this.partial = init.partial;
    this.maskMod = init.maskMod;
    if (!options.trusted) this.check();
    Object.freeze(this);
  }

  /** Number of (head, query block) rows stored. */
  get rows(): number {
    return this.heads * this.qBlocks;
  }

  /** The stored row for query head h (broadcast masks store one head) and query block qb. */
  rowOf(h: number, qb: number): number {
    return (this.heads === 1 ? 0 : h) * this.qBlocks + qb;
  }

  /** Full key blocks of (h, qb), ascending (a view, do not write). */
  fullBlocks(h: number, qb: number): Int32Array {
    const r = this.rowOf(h, qb);
    return this.full.cols.subarray(this.full.rowPtr[r], this.full.rowPtr[r + 1]);
  }

  /** Partial key blocks of (h, qb), ascending (a view, do not write). */
  partialBlocks(h: number, qb: number): Int32Array {
    const r = this.rowOf(h, qb);
    return this.partial.cols.subarray(this.partial.rowPtr[r], this.partial.rowPtr[r + 1]);
  }

  /** State of block (qb, kb) for head h. */
  blockState(h: number, qb: number, kb: number): BlockState {
    const r = this.rowOf(h, qb);
    if (binarySearch(this.full.cols, this.full.rowPtr[r] as number, this.full.rowPtr[r + 1] as number, kb) >= 0) return BlockState.full;
    if (binarySearch(this.partial.cols, this.partial.rowPtr[r] as number, this.partial.rowPtr[r + 1] as number, kb) >= 0) {
      return BlockState.partial;
    }
    return BlockState.empty;
  }

  /** Whether the pair (absolute query position, key position) is kept, ignoring causality. */
  contains(h: number, qPos: number, kPos: number): boolean {
    const i = qPos - this.qOffset;
    if (i < 0 || i >= this.qLength || kPos < 0 || kPos >= this.kvLength) return false;
    const state = this.blockState(h, Math.floor(i / this.blockQ), Math.floor(kPos / this.blockK));
    if (state === BlockState.full) return true;
    return state === BlockState.partial && (this.maskMod as MaskMod)(h, qPos, kPos);
  }

  /** Total stored blocks (full + partial), over stored heads. */
  get blockCount(): number {
    return this.full.cols.length + this.partial.cols.length;
  }

  /**
   * Block-level density, as FlexAttention counts it: the area of computed blocks (clipped to the sequence) over
   * the whole qLength × kvLength area, or over the causal area when `causal`. Partial blocks count whole.
   */
  density(options: { causal?: boolean } = {}): number {
    let kept = 0;
    const heads = this.heads;
    for (let h = 0; h < heads; h++) {
      for (let qb = 0; qb < this.qBlocks; qb++) {
        const q0 = qb * this.blockQ;
        const q1 = Math.min(this.qLength, q0 + this.blockQ);
        const r = h * this.qBlocks + qb;
        for (const rows of [this.full, this.partial]) {
          for (let p = rows.rowPtr[r] as number; p < (rows.rowPtr[r + 1] as number); p++) {
            const kb = rows.cols[p] as number;
            kept += options.causal
              ? causalPairsInBox(q0 + this.qOffset, q1 + this.qOffset, kb * this.blockK, Math.min(this.kvLength, (kb + 1) * this.blockK))
              : (q1 - q0) * (Math.min(this.kvLength, (kb + 1) * this.blockK) - kb * this.blockK);
          }
        }
      }
    }
    const total = options.causal
      ? causalPairsInBox(this.qOffset, this.qOffset + this.qLength, 0, this.kvLength) * heads
      : this.qLength * this.kvLength * heads;
    return total === 0 ? 0 : kept / total;
  }

  /** The block-level picture: `[head][qb][kb]` of BlockState values, for plots and tests. */
  toBlockDense(): Uint8Array {
    const out = new Uint8Array(this.heads * this.qBlocks * this.kBlocks);
    for (let r = 0; r < this.rows; r++) {
      for (let p = this.full.rowPtr[r] as number; p < (this.full.rowPtr[r + 1] as number); p++) {
        out[r * this.kBlocks + (this.full.cols[p] as number)] = BlockState.full;
      }
      for (let p = this.partial.rowPtr[r] as number; p < (this.partial.rowPtr[r + 1] as number); p++) {
        out[r * this.kBlocks + (this.partial.cols[p] as number)] = BlockState.partial;
      }
    }
    return out;
  }

  /**
   * The element-level 0/1 matrix `[head][qLength][kvLength]` (tests and pictures; O(heads·qLength·kvLength)).
   * `heads` expands a broadcast mask to that many heads.
   */
  toDense(options: { heads?: number; causal?: boolean } = {}): Uint8Array {
    const heads = options.heads ?? this.heads;
    const { qLength, kvLength, qOffset, blockQ, blockK } = this;
    const out = new Uint8Array(heads * qLength * kvLength);
    for (let h = 0; h < heads; h++) {
      for (let qb = 0; qb < this.qBlocks; qb++) {
        const q1 = Math.min(qLength, (qb + 1) * blockQ);
        const fill = (kb: number, partial: boolean): void => {
          const k1 = Math.min(kvLength, (kb + 1) * blockK);
          for (let i = qb * blockQ; i < q1; i++) {
            const base = (h * qLength + i) * kvLength;
            for (let k = kb * blockK; k < k1; k++) {
              if (partial && !(this.maskMod as MaskMod)(h, qOffset + i, k)) continue;
              out[base + k] = 1;
            }
          }
        };
        for (const kb of this.fullBlocks(h, qb)) fill(kb, false);
        for (const kb of this.partialBlocks(h, qb)) fill(kb, true);
      }
    }
    if (options.causal) applyCausalToDense(out, heads, qLength, kvLength, qOffset);
    return out;
  }

  /** ASCII picture, one character per block: `#` full, `+` partial, `.` empty; one section per stored head. */
  toString(options: { maxHeads?: number } = {}): string {
    const dense = this.toBlockDense();
    const lines = [
      `BlockMask heads=${this.heads} q=${this.qLength} kv=${this.kvLength} qOffset=${this.qOffset} block=${this.blockQ}x${this.blockK}`,
    ];
    const shown = Math.min(this.heads, options.maxHeads ?? this.heads);
    for (let h = 0; h < shown; h++) {
      if (this.heads > 1) lines.push(`head ${h}`);
      for (let qb = 0; qb < this.qBlocks; qb++) {
        let line = '';
        for (let kb = 0; kb < this.kBlocks; kb++) {
          const s = dense[(h * this.qBlocks + qb) * this.kBlocks + kb];
          line += s === BlockState.full ? '#' : s === BlockState.partial ? '+' : '.';
        }
        lines.push(line);
      }
    }
    if (shown < this.heads) lines.push(`... ${this.heads - shown} more heads`);
    return lines.join('\n');
  }

  /** The geometry this mask was built for. */
  get shape(): MaskShape {
    return { heads: this.heads, qLength: this.qLength, kvLength: this.kvLength, qOffset: this.qOffset };
  }

  private check(): void {
    const rows = this.rows;
    const fail = (msg: string): never => {
      throw new SparselandError('E_SHAPE', `invalid BlockMask: ${msg}`);
    };
    for (const [name, part] of [
      ['full', this.full],
      ['partial', this.partial],
    ] as const) {
      if (!(part?.rowPtr instanceof Int32Array) || !(part.cols instanceof Int32Array)) {
        fail(`${name} must be {rowPtr: Int32Array, cols: Int32Array}`);
      }
      if (part.rowPtr.length !== rows + 1)
        fail(`${name}.rowPtr must have heads·qBlocks + 1 = ${rows + 1} entries, got ${part.rowPtr.length}`);
      if (part.rowPtr[0] !== 0 || part.rowPtr[rows] !== part.cols.length) {
        fail(`${name}.rowPtr must start at 0 and end at cols.length = ${part.cols.length}`);
      }
      for (let r = 0; r < rows; r++) {
        const a = part.rowPtr[r] as number;
        const b = part.rowPtr[r + 1] as number;
        if (b < a) fail(`${name}.rowPtr must not decrease (row ${r})`);
        for (let p = a; p < b; p++) {
          const kb = part.cols[p] as number;
          if (kb < 0 || kb >= this.kBlocks) fail(`${name} block index ${kb} in row ${r} is outside [0, ${this.kBlocks})`);
          if (p > a && kb <= (part.cols[p - 1] as number)) fail(`${name} block indices of row ${r} must be strictly increasing`);
        }
      }
    }
    for (let r = 0; r < rows; r++) {
      const fa = this.full.rowPtr[r] as number;
      const fb = this.full.rowPtr[r + 1] as number;
      for (let p = this.partial.rowPtr[r] as number; p < (this.partial.rowPtr[r + 1] as number); p++) {
        if (binarySearch(this.full.cols, fa, fb, this.partial.cols[p] as number) >= 0) {
          fail(`block ${this.partial.cols[p]} of row ${r} is listed as both full and partial`);
        }
      }
    }
    if (this.partial.cols.length > 0 && typeof this.maskMod !== 'function') fail('partial blocks need a maskMod');
  }
}

/** Number of pairs (q, k) with q in [q0, q1), k in [k0, k1) and k <= q. */
export function causalPairsInBox(q0: number, q1: number, k0: number, k1: number): number {
  let total = 0;
  // Rows below k0 keep nothing; rows >= k1 - 1 keep the whole width; rows in between keep q - k0 + 1.
  const rowsFull = Math.max(0, q1 - Math.max(q0, k1 - 1));
  total += rowsFull * Math.max(0, k1 - k0);
  const a = Math.max(q0, k0);
  const b = Math.min(q1, k1 - 1);
  if (b > a) {
    // sum over q in [a, b) of (q - k0 + 1)
    const n = b - a;
    total += n * (a - k0 + 1) + (n * (n - 1)) / 2;
  }
  return total;
}

/** Zeroes pairs with kPos > qPos in a dense [heads][qLength][kvLength] matrix. */
export function applyCausalToDense(dense: Uint8Array, heads: number, qLength: number, kvLength: number, qOffset: number): void {
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < qLength; i++) {
      const base = (h * qLength + i) * kvLength;
      for (let k = Math.max(0, qOffset + i + 1); k < kvLength; k++) dense[base + k] = 0;
    }
  }
}
