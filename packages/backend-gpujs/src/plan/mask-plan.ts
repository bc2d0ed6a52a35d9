import type { AttentionShape, SparseMask } from '@sparseland/core';
import { IntList, type MaskTileSink, MaskTiles } from '@sparseland/core/kit';
import { DENSE_TILE_K } from './dense-plan.js';
import { type WorkPlan, WorkPlanBuilder } from './work-plan.js';

/**
 * A SparseMask as a work plan, tiles = the BlockMask's blocks (or the ColumnMask's query blocks when there are no
 * blocks), as core's MaskTiles reports them: full blocks become plain items; partial blocks become items with a
 * bitmap of their MaskMod (the only place JS runs per pair) and of the columns inside them; the other columns are
 * gathered 64 at a time, with a bitmap when the tile spans several column rows. With `causal`, blocks and columns
 * entirely after a tile's last query are left out.
 */
export function maskPlan(shape: AttentionShape, mask: SparseMask, causal: boolean): WorkPlan {
  const { blocks, columns } = mask;
  const tileQ = blocks?.blockQ ?? columns?.blockQ ?? DENSE_TILE_K;
  const tileK = blocks?.blockK ?? DENSE_TILE_K;
  const builder = new WorkPlanBuilder(shape.heads, shape.qLength, tileQ, tileK);
  // Tiles of tileQ rows and pieces of tileK keys: exactly the blocks, so tile t is the builder's tile t.
  const tiles = new MaskTiles(shape, mask, { causal, maxRows: tileQ, keyChunk: tileK });
  const items = new ItemWriter(builder, tiles.wordsPerRow);
  for (let h = 0; h < shape.heads; h++) {
    for (let t = 0; t < tiles.count; t++) {
      items.begin(h, t, (tiles.bounds[t + 1] as number) - (tiles.bounds[t] as number));
      tiles.visit(h, t, items);
      items.flushBlocks();
      builder.endTile();
    }
  }
  return builder.build();
}

/**
 * Writes one tile's items. MaskTiles reports full blocks before partial ones; the items keep ascending key order
 * (as the plan always had, so the kernels sum in the same order), so block items wait until the tile's blocks are in.
 */
class ItemWriter implements MaskTileSink {
  private h = 0;
  private t = 0;
  private rows = 0;
  /** Key bases of the tile's full blocks, and (key base, bitmap) of its partial ones, each ascending. */
  private readonly fullBases = new IntList(64);
  private readonly partialItems = new IntList(64);

  constructor(
    private readonly builder: WorkPlanBuilder,
    private readonly wordsPerRow: number,
  ) {}

  begin(h: number, t: number, rows: number): void {
    this.h = h;
    this.t = t;
    this.rows = rows;
  }

  full(k0: number, k1: number): void {
    for (let k = k0; k < k1; k += this.builder.tileK) this.fullBases.push(k);
  }

  partial(k0: number, _k1: number, bits: Int32Array): void {
    const bitmap = this.builder.newBitmap();
    forEachBit(bits, this.rows, this.wordsPerRow, bitmap.set);
    this.partialItems.push(k0);
    this.partialItems.push(bitmap.index);
  }

  columns(keys: Int32Array, count: number, rowBits: Int32Array | undefined): void {
    this.flushBlocks();
    const { builder, h, t } = this;
    const tileK = builder.tileK;
    const words = Math.ceil(count / 32);
    for (let p = 0; p < count; p += tileK) {
      const end = Math.min(count, p + tileK);
      const row = builder.addKeyRow(keys, p, end);
      if (!rowBits) {
        builder.addGather(h, t, row);
        continue;
      }
      const bitmap = builder.newBitmap();
      for (let r = 0; r < this.rows; r++) {
        for (let c = p; c < end; c++) if (((rowBits[r * words + (c >> 5)] as number) >>> (c & 31)) & 1) bitmap.set(r, c - p);
      }
      builder.addGather(h, t, row, bitmap.index);
    }
  }

  /** Adds the tile's block items in ascending key order. */
  flushBlocks(): void {
    const { builder, h, t, fullBases, partialItems } = this;
    let i = 0;
    let j = 0;
    while (i < fullBases.length || j < partialItems.length) {
      const f = i < fullBases.length ? (fullBases.data[i] as number) : Number.POSITIVE_INFINITY;
      const p = j < partialItems.length ? (partialItems.data[j] as number) : Number.POSITIVE_INFINITY;
      if (f < p) {
        builder.addBlock(h, t, f);
        i++;
      } else {
        builder.addBlock(h, t, p, partialItems.data[j + 1] as number);
        j += 2;
      }
    }
    fullBases.clear();
    partialItems.clear();
  }
}

/** Calls set(r, c) for every set bit c of rows [0, rows) of a bitmap with `words` words per row. */
function forEachBit(bits: Int32Array, rows: number, words: number, set: (r: number, c: number) => void): void {
  for (let r = 0; r < rows; r++) {
    for (let w = 0; w < words; w++) {
      let x = bits[r * words + w] as number;
      while (x !== 0) {
        const low = x & -x;
        set(r, w * 32 + 31 - Math.clz32(low));
        x ^= low;
      }
    }
  }
}
