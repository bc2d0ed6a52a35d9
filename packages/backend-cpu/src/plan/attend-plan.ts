import type { AttentionShape, SparseMask } from '@sparseland/core';
import { IntList, type MaskTileSink, MaskTiles } from '@sparseland/core/kit';
import { ATTEND_TASK_INTS, SEG_CAUSAL, SEG_COLUMNS, SEG_INTS, SEG_PARTIAL, SEG_POOLED, SEG_RANGE } from '../driver/job-layout.js';
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
  /** Column pools the POOLED segments read: source kvHeads + i of the job is pool i. */
  readonly pools?: readonly ColumnPool[];
  /** Multiply-adds of Q·Kᵀ the tasks do (for the inline-or-parallel decision). */
  readonly work: number;
}

/**
 * The union of one ColumnMask head's columns (ascending), gathered once per call from one kv head into packed tiles.
 * MInference's vertical lines are the same few hundred keys for every query block: reading them as ranges of a pool
 * spares gathering them again for every task (about a tenth of a vertical-slash call's time).
 */
export interface ColumnPool {
  readonly kvHead: number;
  readonly keys: Int32Array;
}

/** A tile's columns are read from the pool when they form runs of consecutive pool keys this long on average. */
const MIN_POOLED_RUN = 16;

/** Where a head's pool is for the segment writer: pool index of every key (-1: not pooled), source offset. */
interface PoolLookup {
  readonly at: Int32Array;
  /** Added to the task's source index (its kv head) to reach the pool's source. */
  readonly sourceOffset: number;
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
  pool: PoolLookup | undefined;

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
    if (this.pool && this.pooled(this.pool, keys, count)) return;
    const start = this.columnList.length;
    this.columnList.pushAll(keys.subarray(0, count));
    this.segments.push4(SEG_COLUMNS | ((keys[count - 1] as number) >= this.noCheck ? SEG_CAUSAL : 0), start, count, 0);
    this.keys += count;
  }

  /** The columns as runs of consecutive pool keys, when the runs are long enough to beat gathering. */
  private pooled(pool: PoolLookup, keys: Int32Array, count: number): boolean {
    const at = pool.at;
    let runs = 1;
    for (let j = 1; j < count; j++) if ((at[keys[j] as number] as number) !== (at[keys[j - 1] as number] as number) + 1) runs++;
    if (count < MIN_POOLED_RUN * runs) return false;
    let j0 = 0;
    for (let j = 1; j <= count; j++) {
      if (j < count && (at[keys[j] as number] as number) === (at[keys[j - 1] as number] as number) + 1) continue;
      const causal = (keys[j - 1] as number) >= this.noCheck ? SEG_CAUSAL : 0;
      this.segments.push4(SEG_POOLED | causal, at[keys[j0] as number] as number, j - j0, pool.sourceOffset);
      j0 = j;
    }
    this.keys += count;
    return true;
  }
}

/**
 * Pools of a mask's ColumnMask: one per kv head when the columns are shared by every head, else one per query head
 * (from its kv head). None when there are no columns or when the pools would hold more keys than K itself.
 */
function columnPools(shape: AttentionShape, mask: SparseMask | undefined): { pools: ColumnPool[]; lookups: PoolLookup[] } {
  const columns = mask?.columns;
  const none = { pools: [], lookups: [] };
  if (!columns) return none;
  const { heads, kvHeads, kvLength } = shape;
  const unions: Int32Array[] = [];
  const seen = new Uint8Array(kvLength);
  let total = 0;
  for (let hc = 0; hc < columns.heads; hc++) {
    seen.fill(0);
    for (let qb = 0; qb < columns.qBlocks; qb++) for (const k of columns.columns(hc, qb)) seen[k] = 1;
    const keys = new IntList(256);
    for (let k = 0; k < kvLength; k++) if (seen[k]) keys.push(k);
    unions.push(keys.toArray());
    total += keys.length * (columns.heads === 1 ? kvHeads : 1);
  }
  if (total === 0 || total > kvHeads * kvLength) return none;
  const index = unions.map((keys) => {
    const at = new Int32Array(kvLength).fill(-1);
    keys.forEach((k, i) => {
      at[k] = i;
    });
    return at;
  });
  const group = heads / kvHeads;
  // Per query head: its pool's key index, and where its pool's source is relative to its kv head's.
  const lookups = Array.from({ length: heads }, (_, h) =>
    columns.heads === 1
      ? { at: index[0] as Int32Array, sourceOffset: kvHeads }
      : { at: index[h] as Int32Array, sourceOffset: kvHeads + h - Math.floor(h / group) },
  );
  const pools =
    columns.heads === 1
      ? Array.from({ length: kvHeads }, (_, g) => ({ kvHead: g, keys: unions[0] as Int32Array }))
      : unions.map((keys, h) => ({ kvHead: Math.floor(h / group), keys }));
  return { pools, lookups };
}

/**
 * Tasks of ≤ 64 query rows that never cross a block row or a column row, so every row of a task reads the same
 * columns. A mask every head shares (MaskTiles.headsShareTiles) is planned on head 0 and its segments reused.
 */
export function planAttend(shape: AttentionShape, mask: SparseMask | undefined, causal: boolean): AttendPlan {
  const { heads, kvHeads, qLength, kvLength, qOffset } = shape;
  const tiles = new MaskTiles(shape, mask, { causal, maxRows: TILE, keyChunk: TILE, splitAtColumnRows: true, mergeFull: true });
  const { pools, lookups } = columnPools(shape, mask);
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
        writer.pool = lookups[h];
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
    pools,
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
