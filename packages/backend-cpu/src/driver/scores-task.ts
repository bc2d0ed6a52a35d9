import { type Kernels, STAT_INTS } from '../kernels.js';
import { packedFloats } from '../plan/pack.js';
import { TILE } from '../scratch-layout.js';
import type { MemoryViews } from '../ts-kernels.js';
import {
  H,
  H_SCORES,
  SCORES_TASK_FIELDS,
  SD,
  SF_ATLEAST,
  SF_COLMAX,
  SF_MAX,
  SF_MIN,
  SF_MOMENTS,
  SF_OUTPUT,
  SF_PACKED_K,
  SF_TOPK,
} from './job-layout.js';

/**
 * Per-thread scratch of the `scores` op, after the kernel scratch (f32/i32 elements): the tile of scaled scores,
 * the gathered key tile, the transposed query tile (column maxima with keys as rows), slot key indices, each row's
 * visible slots of the tile and of the task, and the top-k candidates (counts, floors, buffers of 2·cap i32 per row).
 */
export function scoresScratchLayout(dp: number, rowsPerTask: number, cap: number) {
  const st = 0;
  const kt = st + TILE * TILE;
  const qt = kt + TILE * dp;
  const keyIdx = qt + TILE * dp;
  const ja = keyIdx + TILE;
  const jb = ja + TILE;
  const rlo = jb + TILE;
  const rhi = rlo + TILE;
  const counts = rhi + TILE;
  const floors = counts + TILE;
  const buf = floors + 2 * TILE;
  return { st, kt, qt, keyIdx, ja, jb, rlo, rhi, counts, floors, buf, floats: buf + rowsPerTask * 2 * cap };
}

/** First index p in list[from, to) with list[p] >= x (the list is strictly increasing). */
function lowerBound(i32: Int32Array, list: number, from: number, to: number, x: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((i32[list + mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function everyRowSeesAll(i32: Int32Array, rlo: number, rhi: number, rows: number, slots: number): boolean {
  for (let r = 0; r < rows; r++) if ((i32[rlo + r] as number) !== 0 || (i32[rhi + r] as number) !== slots) return false;
  return true;
}

/**
 * Column maxima of a key group whose rows all see all its keys (HiP's children scored by their centre keys): keys
 * as rows, so each 64-key tile is a plain copy of listed K rows and the group's query rows are transposed once,
 * instead of transposing every tile of listed keys. The maximum over the rows lands in each key's slot.
 */
function columnMaxKeysAsRows(
  kern: Kernels,
  i32: Int32Array,
  x: number,
  L: ReturnType<typeof scoresScratchLayout>,
  q: number,
  rows: number,
  kBase: number,
  list: number,
  slots: number,
  colMax: number,
  st: number,
  scr: number,
  scale: number,
): void {
  // With scale > 0 the maxima are taken in registers (columnMaxTile), which reads the query columns in eights: the
  // columns past the last row repeat row 0, so they change no maximum.
  const fused = scale > 0;
  const columns = fused ? Math.min(TILE, (rows + 7) & ~7) : rows;
  const rowIdx = x + L.keyIdx;
  for (let r = 0; r < columns; r++) i32[rowIdx + r] = r < rows ? r : 0;
  kern.gatherKeys(x + L.qt, q, rowIdx, columns);
  for (let t0 = 0; t0 < slots; t0 += TILE) {
    const n = Math.min(TILE, slots - t0);
    if (fused) {
      if (t0 + TILE < slots) kern.prefetchRows(kBase, list + t0 + TILE, Math.min(TILE, slots - t0 - TILE));
      kern.columnMaxTile(scr, kBase, list + t0, n, x + L.qt, rows, colMax + t0, scale);
    } else {
      kern.gatherRows(x + L.kt, kBase, list + t0, n);
      kern.scoreBlock(scr, x + L.kt, n, x + L.qt, rows, st, TILE, scale);
      kern.rowMaxInto(st, n, rows, colMax + t0);
    }
  }
}

/**
 * One task of a SCORE_REDUCE job: a head and up to 64 requested rows against the call's keys, or a head and one key
 * group. Tiles of 64 key slots: the kernels gather the keys, score them, and fold the scores into the reductions
 * (or copy them out when the call returns scores).
 */
export function scoresReduceTask(kern: Kernels, views: MemoryViews, job: number, t: number, scr: number, dp: number): void {
  const { i32, f32 } = views;
  const d = i32[job + H_SCORES] as number;
  const field = (f: number): number => i32[d + f] as number;
  const task = (i32[job + H.TASK_TABLE] as number) + t * SCORES_TASK_FIELDS;
  const h = i32[task] as number;
  const flags = field(SD.FLAGS);
  const R = field(SD.ROWS);
  const kvLength = field(SD.KV_LENGTH);
  const packed = (flags & SF_PACKED_K) !== 0;
  const kStride = packed ? packedFloats(kvLength, dp) : kvLength * dp;
  const kBase = field(SD.K) + Math.floor(h / field(SD.GROUP)) * kStride;
  const scale = f32[job + H.SCALE] as number;
  const topK = field(SD.TOPK_K);
  const cap = field(SD.TOPK_CAP);
  const x = scr + field(SD.EXTRA);
  const L = scoresScratchLayout(dp, 1, cap);
  const st = x + L.st;
  const kt = x + L.kt;
  const ja = x + L.ja;
  const jb = x + L.jb;
  const rlo = x + L.rlo;
  const rhi = x + L.rhi;
  const lo = field(SD.LO);
  const hi = field(SD.HI);

  // Keys of this task: a list (slot j is list[j]) or a range (slot j is start + j).
  let list = -1;
  let start = 0;
  let slots: number;
  let rowFrom: number;
  let rowTo: number;
  let colMax = -1;
  if (flags & SF_COLMAX) {
    const G = field(SD.GROUP_COUNT);
    const group = i32[task + 1] as number;
    rowFrom = i32[field(SD.GROUPS) + group] as number;
    rowTo = i32[field(SD.GROUPS) + group + 1] as number;
    const p0 = i32[field(SD.OFFSETS) + h * G + group] as number;
    slots = (i32[field(SD.OFFSETS) + h * G + group + 1] as number) - p0;
    list = field(SD.INDICES) + p0;
    colMax = field(SD.COLMAX) + p0;
  } else {
    rowFrom = i32[task + 1] as number;
    rowTo = i32[task + 2] as number;
    list = field(SD.KEY_LIST);
    start = field(SD.KEY_START);
    slots = field(SD.KEY_COUNT);
  }
  const statFlags = (flags & SF_MAX ? 1 : 0) | (flags & SF_MIN ? 2 : 0) | (flags & SF_MOMENTS ? 4 : 0);

  for (let r0 = rowFrom; r0 < rowTo; r0 += TILE) {
    const rows = Math.min(TILE, rowTo - r0);
    // Each row's visible slots [rlo, rhi) of the task's keys, and their union.
    let first = slots;
    let end = 0;
    for (let r = 0; r < rows; r++) {
      const a = i32[lo + r0 + r] as number;
      const b = (i32[hi + r0 + r] as number) + 1;
      let sa: number;
      let sb: number;
      if (list >= 0) {
        sa = lowerBound(i32, list, 0, slots, a);
        sb = lowerBound(i32, list, sa, slots, b);
      } else {
        sa = Math.max(0, a - start);
        sb = Math.min(slots, b - start);
      }
      if (sb < sa) sb = sa;
      i32[rlo + r] = sa;
      i32[rhi + r] = sb;
      if (sb > sa) {
        first = Math.min(first, sa);
        end = Math.max(end, sb);
      }
    }
    const row0 = h * R + r0;
    if (colMax >= 0 && list >= 0 && first === 0 && end === slots && everyRowSeesAll(i32, rlo, rhi, rows, slots)) {
      columnMaxKeysAsRows(kern, i32, x, L, field(SD.Q) + row0 * dp, rows, kBase, list, slots, colMax, st, scr, scale);
      continue;
    }
    if (flags & SF_TOPK) {
      i32.fill(0, x + L.counts, x + L.counts + rows);
      i32.fill(0, x + L.floors, x + L.floors + 2 * rows);
    }
    const q = field(SD.Q) + row0 * dp;
    // Tiles start at multiples of 64 slots, so each tile's threshold bits are two whole words.
    for (let t0 = first - (first % TILE); t0 < end; t0 += TILE) {
      const n = Math.min(TILE, end - t0);
      let keyIdx: number;
      if (list >= 0) keyIdx = list + t0;
      else {
        keyIdx = x + L.keyIdx;
        for (let j = 0; j < n; j++) i32[keyIdx + j] = start + t0 + j;
      }
      // Packed keys: the tile of keys start + t0 … is chunk (start + t0) / 64 (start is a multiple of 64).
      const tile = packed ? kBase + ((start + t0) / TILE) * TILE * dp : kt;
      if (!packed) kern.gatherKeys(kt, kBase, keyIdx, n);
      kern.scoreBlock(scr, q, rows, tile, n, st, TILE, scale);
      for (let r = 0; r < rows; r++) {
        const a = Math.min(n, Math.max(0, (i32[rlo + r] as number) - t0));
        i32[ja + r] = a;
        i32[jb + r] = Math.max(a, Math.min(n, (i32[rhi + r] as number) - t0));
      }
      if (colMax >= 0) {
        kern.colMaxRows(st, rows, ja, jb, colMax + t0);
        continue;
      }
      if (flags & SF_OUTPUT) {
        const out = field(SD.OUT) + row0 * slots + t0;
        for (let r = 0; r < rows; r++) {
          const a = i32[ja + r] as number;
          const b = i32[jb + r] as number;
          if (b > a) f32.copyWithin(out + r * slots + a, st + r * TILE + a, st + r * TILE + b);
        }
      }
      if (statFlags) kern.rowStats(st, rows, ja, jb, keyIdx, field(SD.STATS) + row0 * STAT_INTS, statFlags);
      if (flags & SF_TOPK) kern.rowTopK(st, rows, ja, jb, keyIdx, x + L.buf, cap, topK, x + L.counts, x + L.floors);
      if (flags & SF_ATLEAST) {
        const words = field(SD.ATLEAST_WORDS);
        kern.rowAtLeast(st, rows, ja, jb, field(SD.ATLEAST_T) + 2 * row0, field(SD.ATLEAST_BITS) + row0 * words, words, t0 >> 5);
      }
    }
    if (flags & SF_TOPK) {
      for (let r = 0; r < rows; r++) {
        const at = (row0 + r) * topK;
        kern.rowTopKFinish(
          x + L.buf + r * 2 * cap,
          i32[x + L.counts + r] as number,
          topK,
          field(SD.TOPK_VALUES) + at,
          field(SD.TOPK_INDICES) + at,
        );
      }
    }
  }
}
