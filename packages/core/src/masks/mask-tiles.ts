import { expectInteger } from '../errors.js';
import type { MaskShape } from '../tensor/shape.js';
import { IntList, lowerBound } from './int-list.js';
import type { MaskMod } from './mask-mod.js';
import type { SparseMask } from './sparse-mask.js';

/** How a backend cuts a call into tiles. */
export interface MaskTileOptions {
  /** Pairs with key > query position are dropped: keys after a tile's last query are never reported. */
  readonly causal: boolean;
  /** Most query rows in a tile. Tiles end at multiples of it and at every block row of the mask. */
  readonly maxRows: number;
  /** Pieces of partial blocks end at multiples of it; their bitmaps have ⌈keyChunk / 32⌉ words per row. */
  readonly keyChunk: number;
  /** Tiles also end at every query block of the ColumnMask, so all rows of a tile keep the same columns. */
  readonly splitAtColumnRows?: boolean | undefined;
  /** Adjacent full blocks are reported as one run (default: one call per block). */
  readonly mergeFull?: boolean | undefined;
}

/**
 * What a tile reads, reported in this order: full runs, partial pieces, gathered columns, each ascending. Every kept
 * pair of the tile is reported exactly once. Bits are never set for a pair after its query when the call is causal
 * (the MaskMod is not even called for it); full runs and gathered columns leave per-row causality to the kernels.
 */
export interface MaskTileSink {
  /** Keys [k0, k1) of full blocks, kept by every row of the tile; k1 is clipped to the sequence and to causality. */
  full(k0: number, k1: number): void;
  /**
   * Keys [k0, k1) of one partial block, inside one key chunk, where at least one pair is kept: row r of the tile
   * keeps key k iff bit (k − k0) % 32 of `bits[r · wordsPerRow + ⌊(k − k0) / 32⌋]` is set. Columns that fall
   * here are already in the bits. `bits` is scratch: valid only during the call.
   */
  partial(k0: number, k1: number, bits: Int32Array): void;
  /**
   * Columns in no block of the tile, ascending, each once: `keys[0..count)`. `rowBits` is undefined when every row
   * keeps every key, else row r keeps keys[c] iff bit c % 32 of `rowBits[r · ⌈count / 32⌉ + ⌊c / 32⌋]` is set
   * (only when a tile spans several column rows). Both arrays are scratch.
   */
  columns(keys: Int32Array, count: number, rowBits: Int32Array | undefined): void;
}

const EMPTY = new Int32Array(0);
const IN_BLOCK = 1;

/**
 * The tiles of a SparseMask for one call, as kernels read them: per (query head, range of query rows) the full key
 * blocks (clipped causally, adjacent ones merged on request), partial blocks with their MaskMod evaluated into
 * bitmaps per key chunk, and ColumnMask columns counted once (dropped inside a full block, set as bits inside a
 * partial one, gathered otherwise). No mask means dense: one full run per tile. Backends choose the row-tile size
 * and key chunk and turn what they are told into their own plan, so this logic lives here once.
 */
export class MaskTiles {
  /** Tile t covers query rows [bounds[t], bounds[t + 1]). */
  readonly bounds: Int32Array;
  readonly count: number;
  /** Bitmap words per row of a partial piece. */
  readonly wordsPerRow: number;
  /**
   * Every query head sees the same tiles: each part of the mask is stored for one head and no MaskMod (which takes
   * the head) is evaluated. Backends may then plan head 0 and reuse it.
   */
  readonly headsShareTiles: boolean;
  private readonly state: Uint8Array;
  private readonly bits: Int32Array;
  private readonly keys = new IntList(64);
  private rowBits = new Int32Array(64);

  constructor(
    private readonly shape: MaskShape,
    private readonly mask: SparseMask | undefined,
    private readonly options: MaskTileOptions,
  ) {
    const maxRows = expectInteger(options.maxRows, 'maxRows', 1);
    const keyChunk = expectInteger(options.keyChunk, 'keyChunk', 1);
    const blocks = mask?.blocks;
    const columns = mask?.columns;
    this.headsShareTiles = (!blocks || (blocks.heads === 1 && blocks.partial.cols.length === 0)) && (!columns || columns.heads === 1);
    this.bounds = tileBounds(shape.qLength, maxRows, blocks?.blockQ, options.splitAtColumnRows ? columns?.blockQ : undefined);
    this.count = this.bounds.length - 1;
    this.wordsPerRow = Math.ceil(keyChunk / 32);
    this.state = new Uint8Array(blocks && columns ? blocks.kBlocks : 0);
    this.bits = new Int32Array(blocks && blocks.partial.cols.length > 0 ? Math.min(maxRows, shape.qLength) * this.wordsPerRow : 0);
  }

  /** Reports what tile t of query head h reads to `sink`. */
  visit(h: number, t: number, sink: MaskTileSink): void {
    const r0 = this.bounds[t] as number;
    const r1 = this.bounds[t + 1] as number;
    const { kvLength, qOffset } = this.shape;
    // Keys at or after keyLimit are after every query of the tile.
    const keyLimit = this.options.causal ? Math.max(0, Math.min(kvLength, qOffset + r1)) : kvLength;
    const mask = this.mask;
    if (!mask) {
      if (keyLimit > 0) sink.full(0, keyLimit);
      return;
    }
    const { blocks, columns } = mask;
    let full: Int32Array = EMPTY;
    let partial: Int32Array = EMPTY;
    if (blocks) {
      const qb = Math.floor(r0 / blocks.blockQ);
      full = blocks.fullBlocks(h, qb);
      partial = blocks.partialBlocks(h, qb);
      this.reportFull(full, blocks.blockK, keyLimit, sink);
      if (columns) {
        for (let p = 0; p < full.length; p++) this.state[full[p] as number] = IN_BLOCK;
        for (let p = 0; p < partial.length; p++) this.state[partial[p] as number] = IN_BLOCK;
      }
      if (partial.length > 0) this.reportPartial(h, r0, r1, partial, blocks.blockK, blocks.maskMod as MaskMod, keyLimit, sink);
    }
    if (columns) {
      this.reportColumns(h, r0, r1, keyLimit, blocks?.blockK ?? 0, sink);
      for (let p = 0; p < full.length; p++) this.state[full[p] as number] = 0;
      for (let p = 0; p < partial.length; p++) this.state[partial[p] as number] = 0;
    }
  }

  private reportFull(full: Int32Array, blockK: number, keyLimit: number, sink: MaskTileSink): void {
    const kvLength = this.shape.kvLength;
    const merge = this.options.mergeFull === true;
    let runStart = -1;
    let runEnd = -1;
    for (let p = 0; p < full.length; p++) {
      const k0 = (full[p] as number) * blockK;
      if (k0 >= keyLimit) break;
      const k1 = Math.min(kvLength, k0 + blockK, keyLimit);
      if (merge && runEnd === k0) runEnd = k1;
      else {
        if (runStart >= 0) sink.full(runStart, runEnd);
        runStart = k0;
        runEnd = k1;
      }
    }
    if (runStart >= 0) sink.full(runStart, runEnd);
  }

  /** Partial blocks cut at key-chunk boundaries: MaskMod bits (causal pairs only), then the columns inside. */
  private reportPartial(
    h: number,
    r0: number,
    r1: number,
    partial: Int32Array,
    blockK: number,
    maskMod: MaskMod,
    keyLimit: number,
    sink: MaskTileSink,
  ): void {
    const { kvLength, qOffset } = this.shape;
    const { causal, keyChunk } = this.options;
    const columns = this.mask?.columns;
    const wpr = this.wordsPerRow;
    const rows = r1 - r0;
    const bits = this.bits;
    for (let p = 0; p < partial.length; p++) {
      const start = (partial[p] as number) * blockK;
      const end = Math.min(kvLength, start + blockK, keyLimit);
      for (let a = start; a < end; ) {
        const b = Math.min(end, (Math.floor(a / keyChunk) + 1) * keyChunk);
        bits.fill(0, 0, rows * wpr);
        let any = 0;
        for (let r = 0; r < rows; r++) {
          const qPos = qOffset + r0 + r;
          const last = causal ? Math.min(b, qPos + 1) : b;
          // One word at a time in a local: the MaskMod call dominates, the stores should not add to it.
          let at = r * wpr;
          let word = 0;
          let wordEnd = a + 32;
          for (let k = a; k < last; k++) {
            if (k === wordEnd) {
              bits[at++] = word;
              any |= word;
              word = 0;
              wordEnd += 32;
            }
            if (maskMod(h, qPos, k)) word |= 1 << ((k - a) & 31);
          }
          bits[at] = word;
          any |= word;
        }
        if (columns) {
          const g1 = Math.floor((r1 - 1) / columns.blockQ);
          for (let g = Math.floor(r0 / columns.blockQ); g <= g1; g++) {
            const list = columns.columns(h, g);
            const gr0 = Math.max(r0, g * columns.blockQ) - r0;
            const gr1 = Math.min(r1, (g + 1) * columns.blockQ) - r0;
            for (let c = lowerBound(list, a); c < list.length && (list[c] as number) < b; c++) {
              const k = list[c] as number;
              const bit = k - a;
              const bitMask = 1 << (bit & 31);
              for (let r = causal ? Math.max(gr0, k - qOffset - r0) : gr0; r < gr1; r++) {
                const w = r * wpr + (bit >> 5);
                bits[w] = (bits[w] as number) | bitMask;
                any = 1;
              }
            }
          }
        }
        if (any !== 0) sink.partial(a, b, bits);
        a = b;
      }
    }
  }

  /** Columns before keyLimit in no block of the tile; merged over the column rows a tile spans. */
  private reportColumns(h: number, r0: number, r1: number, keyLimit: number, blockK: number, sink: MaskTileSink): void {
    const columns = this.mask?.columns;
    if (!columns) return;
    const { causal } = this.options;
    const qOffset = this.shape.qOffset;
    const state = this.state;
    const inBlock = blockK > 0;
    const g0 = Math.floor(r0 / columns.blockQ);
    const g1 = Math.floor((r1 - 1) / columns.blockQ);
    const keys = this.keys;
    keys.clear();
    if (g0 === g1) {
      const list = columns.columns(h, g0);
      for (let c = 0; c < list.length; c++) {
        const k = list[c] as number;
        if (k >= keyLimit) break;
        if (inBlock && state[Math.floor(k / blockK)] !== 0) continue;
        keys.push(k);
      }
      if (keys.length > 0) sink.columns(keys.data, keys.length, undefined);
      return;
    }
    // Several column rows: the union of their kept columns, and per tile row which of them it keeps.
    for (let g = g0; g <= g1; g++) {
      const list = columns.columns(h, g);
      for (let c = 0; c < list.length; c++) {
        const k = list[c] as number;
        if (k >= keyLimit) break;
        if (inBlock && state[Math.floor(k / blockK)] !== 0) continue;
        keys.push(k);
      }
    }
    if (keys.length === 0) return;
    const sorted = keys.data.subarray(0, keys.length).sort();
    let n = 0;
    for (let c = 0; c < sorted.length; c++) if (c === 0 || sorted[c] !== sorted[c - 1]) sorted[n++] = sorted[c] as number;
    const words = Math.ceil(n / 32);
    const rows = r1 - r0;
    if (this.rowBits.length < rows * words) this.rowBits = new Int32Array(Math.max(rows * words, 2 * this.rowBits.length));
    const rowBits = this.rowBits;
    rowBits.fill(0, 0, rows * words);
    for (let g = g0; g <= g1; g++) {
      const list = columns.columns(h, g);
      const gr0 = Math.max(r0, g * columns.blockQ) - r0;
      const gr1 = Math.min(r1, (g + 1) * columns.blockQ) - r0;
      let at = 0;
      for (let c = 0; c < list.length; c++) {
        const k = list[c] as number;
        if (k >= keyLimit) break;
        if (inBlock && state[Math.floor(k / blockK)] !== 0) continue;
        at = lowerBound(sorted, k, at, n);
        const bitMask = 1 << (at & 31);
        for (let r = causal ? Math.max(gr0, k - qOffset - r0) : gr0; r < gr1; r++) {
          const w = r * words + (at >> 5);
          rowBits[w] = (rowBits[w] as number) | bitMask;
        }
      }
    }
    sink.columns(sorted, n, rowBits);
  }
}

/** Row ranges that end at multiples of maxRows, of blockQ and of columnQ (each when given). */
function tileBounds(qLength: number, maxRows: number, blockQ: number | undefined, columnQ: number | undefined): Int32Array {
  const out = new IntList(Math.ceil(qLength / maxRows) + 2);
  out.push(0);
  const next = (r: number, step: number | undefined): number => (step === undefined ? qLength : (Math.floor(r / step) + 1) * step);
  for (let r0 = 0; r0 < qLength; ) {
    const r1 = Math.min(qLength, next(r0, maxRows), next(r0, blockQ), next(r0, columnQ));
    out.push(r1);
    r0 = r1;
  }
  return out.toArray();
}
