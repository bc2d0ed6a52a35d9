import type { AttentionShape, SparseMask } from '@sparseland/core';
import { IntList, type MaskTileSink, MaskTiles } from '@sparseland/core/kit';
import { ATTEND_TASK_INTS, SEG_CAUSAL, SEG_COLUMNS, SEG_INTS, SEG_PARTIAL, SEG_RANGE } from '../driver/job-layout.js';
import { TILE } from '../scratch-layout.js';

/**
 * The work of one attention call, before it is written to shared memory. Tasks are (query head, ≤ 64 query rows);
 * segments say which keys a task reads: contiguous ranges (dense parts and full blocks, merged when adjacent),
 * partial pieces (≤ 64 keys inside one chunk) with a bitmap of the MaskMod evaluated on this thread, and gathered
 * columns, all as core's MaskTiles reports them.
 * Segment `a` of COLUMNS and `aux` of PARTIAL are indices into `columns` / `bitmaps` until the writer relocates them.
 * A task's rowStart is its first row in head-major order (h·qLength + i).
 */
export interface AttendPlan {
  readonly tasks: Int32Array;
  readonly segments: Int32Array;
  readonly bitmaps: Int32Array;
  readonly columns: Int32Array;
  /** Multiply-adds of Q·Kᵀ the tasks do (for the inline-or-parallel decision). */
  readonly work: number;
}

/**
 * Turns what MaskTiles reports for one tile into segments: full runs as ranges, partial pieces (64-key chunks, so
 * two bitmap words per row) as bitmaps, gathered columns as a column list. Keys before `noCheck` are visible to
 * every row of the tile, so segments that end there skip the kernels' causal test.
 */
class SegmentWriter implements MaskTileSink {
  readonly segments: IntList;
  readonly bitmapList = new IntList(64);
  readonly columnList = new IntList(64);
  /** Keys the current tile reads (for its cost). */
  keys = 0;
  noCheck = 0;
  rows = 0;

  constructor(capacity: number) {
    this.segments = new IntList(capacity);
  }

  full(k0: number, k1: number): void {
    this.segments.push4(SEG_RANGE | (k1 > this.noCheck ? SEG_CAUSAL : 0), k0, k1 - k0, 0);
    this.keys += k1 - k0;
  }

  partial(k0: number, k1: number, bits: Int32Array): void {
    const at = this.bitmapList.length;
    this.bitmapList.pushAll(bits.subarray(0, this.rows * 2));
    this.segments.push4(SEG_PARTIAL | (k1 > this.noCheck ? SEG_CAUSAL : 0), k0, k1 - k0, at);
    this.keys += k1 - k0;
  }

  columns(keys: Int32Array, count: number): void {
    const start = this.columnList.length;
    this.columnList.pushAll(keys.subarray(0, count));
    this.segments.push4(SEG_COLUMNS | ((keys[count - 1] as number) >= this.noCheck ? SEG_CAUSAL : 0), start, count, 0);
    this.keys += count;
  }
}

/**
 * Tasks of ≤ 64 query rows that never cross a block row or a column row, so every row of a task reads the same
 * columns. A mask every head shares (MaskTiles.headsShareTiles) is planned on head 0 and its segments reused.
 */
export function planAttend(shape: AttentionShape, mask: SparseMask | undefined, causal: boolean): AttendPlan {
  const { heads, kvHeads, qLength, kvLength, qOffset } = shape;
  const tiles = new MaskTiles(shape, mask, { causal, maxRows: TILE, keyChunk: TILE, splitAtColumnRows: true, mergeFull: true });
  const tasks = new IntList(heads * tiles.count * ATTEND_TASK_INTS);
  const writer = new SegmentWriter(heads * tiles.count * SEG_INTS * 2);
  const segments = writer.segments;
  const costs: number[] = [];
  const firstSeg = new Int32Array(tiles.count);
  const segCount = new Int32Array(tiles.count);
  const keysOf = new Float64Array(tiles.count);
  let work = 0;
  for (let h = 0; h < heads; h++) {
    const g = Math.floor(h / (heads / kvHeads));
    for (let t = 0; t < tiles.count; t++) {
      const r0 = tiles.bounds[t] as number;
      const rows = (tiles.bounds[t + 1] as number) - r0;
      if (h === 0 || !tiles.headsShareTiles) {
        firstSeg[t] = segments.length / SEG_INTS;
        writer.keys = 0;
        writer.rows = rows;
        writer.noCheck = causal ? Math.max(0, Math.min(kvLength, qOffset + r0 + 1)) : kvLength;
        tiles.visit(h, t, writer);
        segCount[t] = segments.length / SEG_INTS - (firstSeg[t] as number);
        keysOf[t] = writer.keys;
      }
      const keys = keysOf[t] as number;
      tasks.push4(h * qLength + r0, rows, firstSeg[t] as number, segCount[t] as number);
      tasks.push(g);
      tasks.push(h);
      costs.push(rows * keys + 64);
      work += rows * keys * shape.dim;
    }
  }
  return {
    tasks: sortByCost(tasks.view(), costs, ATTEND_TASK_INTS),
    segments: segments.view(),
    bitmaps: writer.bitmapList.view(),
    columns: writer.columnList.view(),
    work,
  };
}

/** Reorders task records by decreasing cost: the shared counter then hands out the long tasks first. */
export function sortByCost(tasks: Int32Array, costs: readonly number[], ints: number): Int32Array {
  // Already in order (a decode step's few equal tasks): nothing to move.
  let sorted = true;
  for (let i = 1; i < costs.length && sorted; i++) sorted = (costs[i - 1] as number) >= (costs[i] as number);
  if (sorted) return tasks;
  const order = costs.map((_, i) => i).sort((a, b) => (costs[b] as number) - (costs[a] as number));
  const out = new Int32Array(tasks.length);
  order.forEach((from, to) => {
    out.set(tasks.subarray(from * ints, (from + 1) * ints), to * ints);
  });
  return out;
}
