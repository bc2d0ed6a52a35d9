/**
 * The host-side description of which (query, key) pairs a GPU attention call computes, in the form kernels can read.
 *
 * Query rows are cut into tiles of `tileQ` rows. Each tile (query head h, tile t) owns a run of **work items**; an
 * item is `tileQ × tileK` pairs: the tile's rows against `tileK` keys, either a contiguous key block
 * (`keyBase .. keyBase + tileK`) or a gathered row of `keyRows` (columns, decode slots). An item may carry a
 * **bitmap** (one 0/1 per pair) for what only a JS MaskMod can decide: gpu.js kernels cannot call JS functions, so
 * partial blocks are evaluated here, once, and the kernels read the bits. Causality and sequence ends are checked
 * in the kernels from positions. Absent blocks have no item: kernels never visit them.
 *
 * Every array is Float32 because gpu.js passes numbers as floats; indices stay below 2^24 where floats are exact.
 */
export interface WorkPlan {
  readonly tileQ: number;
  readonly tileK: number;
  readonly heads: number;
  readonly qLength: number;
  readonly qTiles: number;
  /** Number of work items. */
  readonly items: number;
  /** `[items][ITEM_FIELDS]`: query head, tile, first key (contiguous items), gathered row (-1: contiguous), bitmap (-1: none). */
  readonly itemInfo: Float32Array;
  /** Items of tile (h, t) are `tilePtr[h·qTiles + t] .. tilePtr[h·qTiles + t + 1]`. */
  readonly tilePtr: Float32Array;
  /** `[gatherRows][tileK]` key positions, -1 where a row is shorter than tileK. At least one row (padding). */
  readonly keyRows: Float32Array;
  readonly gatherRows: number;
  /** `[bitmapTiles · tileQ][tileK]` of 0/1. At least one tile (padding). */
  readonly bitmaps: Float32Array;
  readonly bitmapTiles: number;
}

/** Fields per work item in `itemInfo`. */
export const ITEM_FIELDS = 5;

/** Growable Float32 storage for plan arrays. */
export class FloatList {
  private buffer: Float32Array;
  length = 0;

  constructor(capacity = 64) {
    this.buffer = new Float32Array(Math.max(8, capacity));
  }

  push(value: number): void {
    if (this.length === this.buffer.length) this.reserve(this.length + 1);
    this.buffer[this.length++] = value;
  }

  /** Appends `count` copies of `value` and returns where they start. */
  fill(value: number, count: number): number {
    const at = this.length;
    this.reserve(at + count);
    this.buffer.fill(value, at, at + count);
    this.length += count;
    return at;
  }

  set(index: number, value: number): void {
    this.buffer[index] = value;
  }

  /** A right-sized copy, padded with `pad` up to `minLength`. */
  toArray(minLength = 0, pad = 0): Float32Array {
    const out = new Float32Array(Math.max(this.length, minLength));
    out.set(this.buffer.subarray(0, this.length));
    if (out.length > this.length) out.fill(pad, this.length);
    return out;
  }

  private reserve(min: number): void {
    if (min <= this.buffer.length) return;
    let cap = this.buffer.length * 2;
    while (cap < min) cap *= 2;
    const next = new Float32Array(cap);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }
}

/** Accumulates a WorkPlan tile by tile, in (head, tile) order. */
export class WorkPlanBuilder {
  private readonly info = new FloatList(256);
  private readonly tilePtr: Float32Array;
  private readonly keyRows: FloatList;
  private readonly bitmaps: FloatList;
  private gatherRows = 0;
  private bitmapTiles = 0;
  private tilesDone = 0;

  constructor(
    readonly heads: number,
    readonly qLength: number,
    readonly tileQ: number,
    readonly tileK: number,
  ) {
    this.tilePtr = new Float32Array(heads * Math.ceil(qLength / tileQ) + 1);
    this.keyRows = new FloatList(tileK * 4);
    this.bitmaps = new FloatList(tileQ * tileK);
  }

  get qTiles(): number {
    return Math.ceil(this.qLength / this.tileQ);
  }

  /** A contiguous key block item; `bitmap` from newBitmap() or -1. */
  addBlock(h: number, tile: number, keyBase: number, bitmap = -1): void {
    this.pushItem(h, tile, keyBase, -1, bitmap);
  }

  /** A gathered item over a row from addKeyRow(). */
  addGather(h: number, tile: number, gatherRow: number, bitmap = -1): void {
    this.pushItem(h, tile, 0, gatherRow, bitmap);
  }

  /** Stores up to tileK keys (padded with -1) and returns the row's index. */
  addKeyRow(keys: ArrayLike<number>, from = 0, to = keys.length): number {
    const at = this.keyRows.fill(-1, this.tileK);
    for (let p = from; p < to; p++) this.keyRows.set(at + p - from, keys[p] as number);
    return this.gatherRows++;
  }

  /** Allocates a zeroed tileQ × tileK bitmap; returns its index and a setter for (row in tile, column in item). */
  newBitmap(): { index: number; set: (r: number, c: number) => void } {
    const at = this.bitmaps.fill(0, this.tileQ * this.tileK);
    const tileK = this.tileK;
    const bitmaps = this.bitmaps;
    return { index: this.bitmapTiles++, set: (r, c) => bitmaps.set(at + r * tileK + c, 1) };
  }

  /** Closes the current (head, tile): call once per tile, in order. */
  endTile(): void {
    this.tilesDone++;
    this.tilePtr[this.tilesDone] = this.info.length / ITEM_FIELDS;
  }

  build(): WorkPlan {
    const items = this.info.length / ITEM_FIELDS;
    return {
      tileQ: this.tileQ,
      tileK: this.tileK,
      heads: this.heads,
      qLength: this.qLength,
      qTiles: this.qTiles,
      items,
      itemInfo: this.info.toArray(ITEM_FIELDS, -1),
      tilePtr: this.tilePtr,
      keyRows: this.keyRows.toArray(this.tileK, -1),
      gatherRows: Math.max(1, this.gatherRows),
      bitmaps: this.bitmaps.toArray(this.tileQ * this.tileK, 0),
      bitmapTiles: Math.max(1, this.bitmapTiles),
    };
  }

  private pushItem(h: number, tile: number, keyBase: number, gatherRow: number, bitmap: number): void {
    this.info.push(h);
    this.info.push(tile);
    this.info.push(keyBase);
    this.info.push(gatherRow);
    this.info.push(bitmap);
  }
}
