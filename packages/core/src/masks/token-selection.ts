import { expectInteger, SparselandError } from '../errors.js';
import { IntList } from './int-list.js';

/** Storage precisions a selected cache slot may be read at (bits per value). */
export type SlotPrecision = 32 | 16 | 8 | 4 | 2;

export interface TokenSelectionInit {
  readonly kvHeads: number;
  /** Cache length the slots index into. */
  readonly kvLength: number;
  /** kv head g reads slots[rowPtr[g] .. rowPtr[g+1]), strictly increasing. */
  readonly rowPtr: Int32Array;
  readonly slots: Int32Array;
  /** Optional bits per selected slot (parallel to `slots`); 32 or absent means full precision. */
  readonly precision?: Uint8Array | undefined;
}

/**
 * Which cache slots one decoding step reads, per kv head (Quest pages, TidalDecode tokens, H2O heavy hitters...).
 * Every query head of a GQA group reads its kv head's slots.
 */
export class TokenSelection {
  readonly kvHeads: number;
  readonly kvLength: number;
  readonly rowPtr: Int32Array;
  readonly slots: Int32Array;
  readonly precision: Uint8Array | undefined;

  constructor(init: TokenSelectionInit, options: { trusted?: boolean } = {}) {
    this.kvHeads = expectInteger(init.kvHeads, 'TokenSelection kvHeads', 1);
    this.kvLength = expectInteger(init.kvLength, 'TokenSelection kvLength', 0);
    this.rowPtr = init.rowPtr;
    this.slots = init.slots;
    this.precision = init.precision;
    if (!options.trusted) this.check();
    Object.freeze(this);
  }

  /** A selection from one sorted-or-not list of slots per kv head (duplicates removed). */
  static fromLists(lists: readonly (readonly number[] | Int32Array)[], kvLength: number): TokenSelection {
    const rowPtr = new Int32Array(lists.length + 1);
    const out = new IntList();
    lists.forEach((list, g) => {
      const sorted = Int32Array.from(list).sort();
      for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) out.push(sorted[i] as number);
      rowPtr[g + 1] = out.length;
    });
    return new TokenSelection({ kvHeads: lists.length, kvLength, rowPtr, slots: out.toArray() });
  }

  /** Every slot of every head: decoding over the full cache. */
  static all(kvHeads: number, kvLength: number): TokenSelection {
    const rowPtr = new Int32Array(kvHeads + 1);
    const slots = new Int32Array(kvHeads * kvLength);
    for (let g = 0; g < kvHeads; g++) {
      for (let s = 0; s < kvLength; s++) slots[g * kvLength + s] = s;
      rowPtr[g + 1] = (g + 1) * kvLength;
    }
    return new TokenSelection({ kvHeads, kvLength, rowPtr, slots }, { trusted: true });
  }

  /** The slots kv head g reads (a view). */
  slotsOf(g: number): Int32Array {
    return this.slots.subarray(this.rowPtr[g], this.rowPtr[g + 1]);
  }

  /** Bits per value of the slots of kv head g (a view), or undefined for full precision. */
  precisionOf(g: number): Uint8Array | undefined {
    return this.precision?.subarray(this.rowPtr[g], this.rowPtr[g + 1]);
  }

  get size(): number {
    return this.slots.length;
  }

  private check(): void {
    const fail = (msg: string): never => {
      throw new SparselandError('E_SHAPE', `invalid TokenSelection: ${msg}`);
    };
    if (!(this.rowPtr instanceof Int32Array) || !(this.slots instanceof Int32Array)) fail('rowPtr and slots must be Int32Arrays');
    if (this.rowPtr.length !== this.kvHeads + 1)
      fail(`rowPtr must have kvHeads + 1 = ${this.kvHeads + 1} entries, got ${this.rowPtr.length}`);
    if (this.rowPtr[0] !== 0 || this.rowPtr[this.kvHeads] !== this.slots.length) fail('rowPtr must start at 0 and end at slots.length');
    for (let g = 0; g < this.kvHeads; g++) {
      const a = this.rowPtr[g] as number;
      const b = this.rowPtr[g + 1] as number;
      if (b < a) fail(`rowPtr must not decrease (kv head ${g})`);
      for (let p = a; p < b; p++) {
        const s = this.slots[p] as number;
        if (s < 0 || s >= this.kvLength) fail(`slot ${s} of kv head ${g} is outside the cache [0, ${this.kvLength})`);
        if (p > a && s <= (this.slots[p - 1] as number)) fail(`slots of kv head ${g} must be strictly increasing`);
      }
    }
    if (this.precision !== undefined) {
      if (!(this.precision instanceof Uint8Array) || this.precision.length !== this.slots.length) {
        fail(`precision must be a Uint8Array with one entry per slot (${this.slots.length})`);
      }
      for (const bits of this.precision as Uint8Array) {
        if (![32, 16, 8, 4, 2].includes(bits)) fail(`precision entries must be 32, 16, 8, 4 or 2 bits, got ${bits}`);
      }
    }
  }
}

/** Throws E_SHAPE unless a selection was made for this cache (kv heads and length). */
export function expectSelectionFits(selection: TokenSelection, shape: { readonly kvHeads: number; readonly kvLength: number }): void {
  if (selection.kvHeads !== shape.kvHeads || selection.kvLength !== shape.kvLength) {
    throw new SparselandError(
      'E_SHAPE',
      `selection was made for ${selection.kvHeads} kv heads over ${selection.kvLength} slots, but the cache has ${shape.kvHeads} kv heads and ${shape.kvLength} slots`,
    );
  }
}
