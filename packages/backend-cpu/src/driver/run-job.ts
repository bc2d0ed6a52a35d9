import type { ScoreMod } from '@sparseland/core';
import { type Kernels, MODE_BITMAP, MODE_POSITIONS } from '../kernels.js';
import { scratchLayout, TILE } from '../scratch-layout.js';
import type { MemoryViews } from '../ts-kernels.js';
import {
  ATTEND_TASK_INTS,
  FLAG_SOFTMAX,
  H,
  LIN_IN,
  LIN_OUT,
  LIN_OUT_STRIDE,
  LIN_WP,
  LIN_X,
  LIN_X_STRIDE,
  LINEAR_TASK_INTS,
  OP_ATTEND,
  OP_LINEAR,
  OP_QUANT_POOL,
  OP_QUANT_ROWS,
  OP_SCORE_REDUCE,
  OP_SCORES,
  QUANT_TASK_INTS,
  ROW_INTS,
  SCORES_TASK_INTS,
  SEG_CAUSAL,
  SEG_COLUMNS,
  SEG_INTS,
  SEG_KIND_MASK,
  SEG_PACKED,
  SEG_PARTIAL,
  SEG_POOLED,
  SEG_RANGE,
  SOURCE_INTS,
  T_HEAD,
  T_ROW_START,
  T_ROWS,
  T_SEG_COUNT,
  T_SEG_START,
  T_SOURCE,
} from './job-layout.js';
import { scoresReduceTask } from './scores-task.js';

/** Header field (beyond the common ones) of ATTEND jobs: i32 offset of one head index per row (scoreMod only). */
export const H_ROW_HEADS = 10;

const NEG_INF = Number.NEGATIVE_INFINITY;

/**
 * Runs tasks of the job at `job` until the shared counter passes the task count. Every thread (workers and the
 * calling thread) runs this same function on the same memory with its own scratch at `scr`. `scoreMod` only
 * exists on the calling thread: jobs with a ScoreMod run there alone.
 */
export function runJob(kern: Kernels, views: MemoryViews, job: number, scr: number, scoreMod?: ScoreMod): void {
  const i32 = views.i32;
  const tasks = i32[job + H.TASKS] as number;
  const op = i32[job + H.OP] as number;
  const dp = i32[job + H.DP] as number;
  kern.configure(dp);
  for (;;) {
    const t = Atomics.add(i32, job + H.COUNTER, 1);
    if (t >= tasks) return;
    if (op === OP_ATTEND) attendTask(kern, views, job, t, scr, dp, scoreMod);
    else if (op === OP_SCORES) scoresTask(kern, views, job, t, scr, dp);
    else if (op === OP_QUANT_ROWS) quantRowsTask(kern, views, job, t);
    else if (op === OP_QUANT_POOL) quantPoolTask(kern, views, job, t, scr, dp);
    else if (op === OP_SCORE_REDUCE) scoresReduceTask(kern, views, job, t, scr, dp);
    else if (op === OP_LINEAR) linearTask(kern, views.i32, job, t);
    else throw new Error(`unknown job op ${op}`);
  }
}

function attendTask(kern: Kernels, views: MemoryViews, job: number, t: number, scr: number, dp: number, scoreMod?: ScoreMod): void {
  const i32 = views.i32;
  const scale = views.f32[job + H.SCALE] as number;
  const task = (i32[job + H.TASK_TABLE] as number) + t * ATTEND_TASK_INTS;
  const rows = i32[task + T_ROWS] as number;
  const rowStart = i32[task + T_ROW_START] as number;
  const rowTable = (i32[job + H.ROW_TABLE] as number) + rowStart * ROW_INTS;
  const source = (i32[job + H.SOURCE_TABLE] as number) + (i32[task + T_SOURCE] as number) * SOURCE_INTS;
  const kp = i32[source] as number;
  const v = i32[source + 1] as number;
  const posList = i32[source + 2] as number;
  const segTable = i32[job + H.SEG_TABLE] as number;
  const segStart = i32[task + T_SEG_START] as number;
  const segEnd = segStart + (i32[task + T_SEG_COUNT] as number);
  const layout = scratchLayout(scr, dp);
  const hook = scoreMod
    ? makeScoreModHook(views, scoreMod, layout, rows, i32[task + T_HEAD] as number, i32[job + H_ROW_HEADS] as number, rowStart)
    : undefined;
  kern.begin(scr, rowTable, rows, scale);
  for (let s = segStart; s < segEnd; s++) {
    const seg = segTable + s * SEG_INTS;
    const kindFlags = i32[seg] as number;
    const kind = kindFlags & SEG_KIND_MASK;
    const causal = kindFlags & SEG_CAUSAL ? 1 : 0;
    const a = i32[seg + 1] as number;
    const n = i32[seg + 2] as number;
    if (kind === SEG_COLUMNS) {
      for (let c0 = 0; c0 < n; c0 += TILE) {
        const count = Math.min(TILE, n - c0);
        kern.gather(scr, kp, v, a + c0, count);
        const mode = causal | MODE_POSITIONS;
        if (hook) {
          kern.tileScores(scr, rows, layout.kg, count, mode, 0, layout.gpos, -1);
          hook(count, 0, layout.gpos);
          kern.tileUpdate(scr, rows, layout.vg, count);
        } else kern.tile(scr, rows, layout.kg, layout.vg, count, mode, 0, layout.gpos, -1);
      }
      continue;
    }
    if (kind === SEG_PACKED) {
      // A packed block: each 64-token tile is dequantised into the scratch's gathered area, then attended as usual.
      const desc = kp + a;
      const pos0 = i32[seg + 3] as number;
      for (let t0 = 0; t0 < n; t0 += TILE) {
        const count = Math.min(TILE, n - t0);
        kern.unpackTile(scr, desc, t0, count);
        if (hook) {
          kern.tileScores(scr, rows, layout.kg, count, causal, pos0 + t0, -1, -1);
          hook(count, pos0 + t0, -1);
          kern.tileUpdate(scr, rows, layout.vg, count);
        } else kern.tile(scr, rows, layout.kg, layout.vg, count, causal, pos0 + t0, -1, -1);
      }
      continue;
    }
    if (kind === SEG_POOLED) {
      // A run of a column pool: a range of the pool's own source, whose positions are listed.
      const pool = (i32[job + H.SOURCE_TABLE] as number) + ((i32[task + T_SOURCE] as number) + (i32[seg + 3] as number)) * SOURCE_INTS;
      const poolK = i32[pool] as number;
      readRange(
        kern,
        scr,
        rows,
        dp,
        poolK,
        i32[pool + 1] as number,
        i32[pool + 2] as number,
        a,
        n,
        causal | MODE_POSITIONS,
        -1,
        hook,
        -1,
        i32,
      );
      continue;
    }
    const bitmap = kind === SEG_PARTIAL ? (i32[seg + 3] as number) : -1;
    const mode = causal | (kind === SEG_PARTIAL ? MODE_BITMAP : 0) | (posList >= 0 ? MODE_POSITIONS : 0);
    readRange(kern, scr, rows, dp, kp, v, posList, a, n, mode, bitmap, hook, s + 1 < segEnd ? segTable + (s + 1) * SEG_INTS : -1, i32);
  }
  kern.finish(scr, rowTable, rows);
}

/**
 * Keys [a, a + n) of a source (packed K chunks at kp, V rows at v, key positions listed at posList or -1 for
 * position = key index), one tile per 64-key chunk they touch. Each tile's successor is prefetched; after the
 * last tile, the first of segment `nextSeg` (when it is a range or partial piece of the same source: block-sparse
 * masks are mostly one-block segments), so its key chunk and value rows start arriving in cache now.
 */
function readRange(
  kern: Kernels,
  scr: number,
  rows: number,
  dp: number,
  kp: number,
  v: number,
  posList: number,
  a: number,
  n: number,
  mode: number,
  bitmap: number,
  hook: ((n: number, pos0: number, posList: number) => void) | undefined,
  nextSeg: number,
  i32: Int32Array,
): void {
  const chunkFloats = TILE * dp;
  const end = a + n;
  for (let k = a; k < end; ) {
    const off = k & (TILE - 1);
    const count = Math.min(end - k, TILE - off);
    const kt = kp + (k >> 6) * chunkFloats + off;
    const vk = v + k * dp;
    const positions = posList >= 0 ? posList + k : -1;
    const next = k + count;
    if (next < end) kern.prefetch(kp + (next >> 6) * chunkFloats, chunkFloats, v + next * dp, Math.min(TILE, end - next) * dp);
    else if (nextSeg >= 0) prefetchSegment(kern, i32, nextSeg, kp, v, dp);
    if (hook) {
      kern.tileScores(scr, rows, kt, count, mode, k, positions, bitmap);
      hook(count, k, positions);
      kern.tileUpdate(scr, rows, vk, count);
    } else kern.tile(scr, rows, kt, vk, count, mode, k, positions, bitmap);
    k += count;
  }
}

/** Prefetch hint for the first tile of a range or partial segment (columns and packed blocks have no K/V tile). */
function prefetchSegment(kern: Kernels, i32: Int32Array, seg: number, kp: number, v: number, dp: number): void {
  const kind = (i32[seg] as number) & SEG_KIND_MASK;
  if (kind !== SEG_RANGE && kind !== SEG_PARTIAL) return;
  const a = i32[seg + 1] as number;
  const count = Math.min(i32[seg + 2] as number, TILE - (a & (TILE - 1)));
  kern.prefetch(kp + (a >> 6) * TILE * dp, TILE * dp, v + a * dp, count * dp);
}

/** Applies a ScoreMod to the kept (finite) scores of the tile in S, on the calling thread. */
function makeScoreModHook(
  views: MemoryViews,
  scoreMod: ScoreMod,
  layout: ReturnType<typeof scratchLayout>,
  rows: number,
  taskHead: number,
  rowHeads: number,
  rowStart: number,
): (n: number, pos0: number, posList: number) => void {
  return (n, pos0, posList) => {
    const f = views.f32;
    const i = views.i32;
    for (let r = 0; r < rows; r++) {
      const rowPos = i[layout.pos + r] as number;
      const h = rowHeads >= 0 ? (i[rowHeads + rowStart + r] as number) : taskHead;
      const s = layout.s + r * TILE;
      for (let j = 0; j < n; j++) {
        const x = f[s + j] as number;
        if (x === NEG_INF) continue;
        f[s + j] = scoreMod(x, h, rowPos, posList >= 0 ? (i[posList + j] as number) : pos0 + j);
      }
    }
  };
}

function linearTask(kern: Kernels, i32: Int32Array, job: number, t: number): void {
  const task = (i32[job + H.TASK_TABLE] as number) + t * LINEAR_TASK_INTS;
  const row = i32[task] as number;
  const xStride = i32[job + LIN_X_STRIDE] as number;
  const outStride = i32[job + LIN_OUT_STRIDE] as number;
  kern.linearRows(
    (i32[job + LIN_X] as number) + row * xStride,
    xStride,
    i32[task + 1] as number,
    i32[job + LIN_WP] as number,
    i32[job + LIN_IN] as number,
    i32[task + 2] as number,
    i32[task + 3] as number,
    (i32[job + LIN_OUT] as number) + row * outStride,
    outStride,
  );
}

function scoresTask(kern: Kernels, views: MemoryViews, job: number, t: number, scr: number, dp: number): void {
  const i32 = views.i32;
  const f32 = views.f32;
  const scale = f32[job + H.SCALE] as number;
  const softmax = ((i32[job + H.FLAGS] as number) & FLAG_SOFTMAX) !== 0;
  const task = (i32[job + H.TASK_TABLE] as number) + t * SCORES_TASK_INTS;
  const q = i32[task] as number;
  const rows = i32[task + 1] as number;
  const kp = i32[task + 2] as number;
  const n = i32[task + 3] as number;
  const out = i32[task + 4] as number;
  const outStride = i32[task + 5] as number;
  const last = i32[task + 6] as number;
  const vertical = i32[task + 7] as number;
  const slash = i32[task + 8] as number;
  const stats = i32[task + 9] as number;
  if (vertical >= 0) {
    probeSumsTask(kern, i32, { q, rows, kp, n, out, outStride, last, vertical, slash, stats, scale, scr, dp });
    return;
  }
  const nEff = keysSeen(i32, last, rows, n);
  for (let k0 = 0; k0 < nEff; k0 += TILE) {
    kern.scoreBlock(scr, q, rows, kp + (k0 >> 6) * TILE * dp, Math.min(TILE, nEff - k0), out + k0, outStride, scale);
  }
  for (let r = 0; r < rows; r++) {
    const row = out + r * outStride;
    const l = i32[last + r] as number;
    if (softmax) {
      if (l >= 0) kern.softmaxRow(row, l + 1);
      f32.fill(0, row + l + 1, row + n);
    } else f32.fill(NEG_INF, row + l + 1, row + n);
  }
}

/** Keys [0, result) that some of `rows` rows may see: one past the largest last key (i32 per row at `last`), at most n. */
function keysSeen(i32: Int32Array, last: number, rows: number, n: number): number {
  let maxLast = -1;
  for (let r = 0; r < rows; r++) maxLast = Math.max(maxLast, i32[last + r] as number);
  return Math.min(n, maxLast + 1);
}

interface ProbeSumsTask {
  readonly q: number;
  readonly rows: number;
  readonly kp: number;
  readonly n: number;
  readonly out: number;
  readonly outStride: number;
  readonly last: number;
  readonly vertical: number;
  readonly slash: number;
  readonly stats: number;
  readonly scale: number;
  readonly scr: number;
  readonly dp: number;
}

/**
 * A SCORES task that makes probe sums: all rows of one head, in chunks of 64. Only the sums are wanted, so no row is
 * softmaxed on its own: each tile's exponentials are taken in the tile (probeTile), then each row is scaled into its
 * probabilities as it is added to the sums (probeTileSums).
 */
function probeSumsTask(kern: Kernels, i32: Int32Array, t: ProbeSumsTask): void {
  const statStride = 2 * Math.ceil(t.n / TILE);
  for (let c0 = 0; c0 < t.rows; c0 += TILE) {
    const rows = Math.min(TILE, t.rows - c0);
    const last = t.last + c0;
    const nEff = keysSeen(i32, last, rows, t.n);
    // Every chunk reuses the task's 64 output rows and their tile statistics.
    for (let k0 = 0; k0 < nEff; k0 += TILE) {
      const kt = t.kp + (k0 >> 6) * TILE * t.dp;
      const n = Math.min(TILE, nEff - k0);
      kern.probeTile(t.scr, t.q + c0 * t.dp, rows, kt, n, last, k0, t.out + k0, t.outStride, t.scale, t.stats + 2 * (k0 >> 6), statStride);
    }
    for (let r = 0; r < rows; r++) {
      const l = i32[last + r] as number;
      if (l >= 0) kern.probeTileSums(t.out + r * t.outStride, l + 1, t.stats + r * statStride, t.vertical, t.slash + c0 + r);
    }
  }
}

function quantRowsTask(kern: Kernels, views: MemoryViews, job: number, t: number): void {
  const i32 = views.i32;
  const task = (i32[job + H.TASK_TABLE] as number) + t * QUANT_TASK_INTS;
  const { qi, rows, ki, n, stride, rowScale, keyScale, out, outStride, last, rowBias } = readQuantTask(i32, task);
  const nEff = keysSeen(i32, last, rows, n);
  if (nEff > 0) kern.quantScores(qi, rows, ki, nEff, stride, rowScale, keyScale, out, outStride);
  const f32 = views.f32;
  for (let r = 0; r < rows; r++) {
    const row = out + r * outStride;
    const lastKey = i32[last + r] as number;
    if (rowBias >= 0) {
      const bias = f32[rowBias + r] as number;
      for (let j = 0; j <= lastKey; j++) f32[row + j] = (f32[row + j] as number) - bias;
    }
    f32.fill(NEG_INF, row + lastKey + 1, row + n);
  }
}

function quantPoolTask(kern: Kernels, views: MemoryViews, job: number, t: number, scr: number, dp: number): void {
  const i32 = views.i32;
  const f32 = views.f32;
  const task = (i32[job + H.TASK_TABLE] as number) + t * QUANT_TASK_INTS;
  const { qi, rows, ki, n, stride, rowScale, keyScale, out, last, blockK, rowBias, narrow } = readQuantTask(i32, task);
  const layout = scratchLayout(scr, dp);
  const s = layout.s;
  const colMax = layout.acc;
  const kBlocks = Math.ceil(n / blockK);
  f32.fill(NEG_INF, out, out + kBlocks);
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const rc = Math.min(TILE, rows - r0);
    const nEff = keysSeen(i32, last + r0, rc, n);
    if (rowBias >= 0) {
      // Biased: one fused kernel per 64-key tile gives each key's max over the rows (K stored in groups of 8 keys
      // with channel pairs interleaved, see quantBiasColMaxT); keys are tile-relative in the kernel, so the rows'
      // last keys are shifted into the scratch's POS slots first; the QS scratch takes the shifted query rows.
      const lastRel = layout.pos;
      for (let k0 = 0; k0 < nEff; k0 += TILE) {
        const kc = Math.min(TILE, nEff - k0);
        for (let r = 0; r < rc; r++) i32[lastRel + r] = (i32[last + r0 + r] as number) - k0;
        const qs = layout.qs * 4;
        kern.quantBiasColMaxT(
          qi + r0 * stride,
          rc,
          ki + k0 * stride,
          kc,
          stride,
          rowScale + r0,
          keyScale + k0,
          rowBias + r0,
          lastRel,
          colMax,
          narrow,
          qs,
        );
        for (let j = 0; j < kc; j++) {
          const at = out + Math.floor((k0 + j) / blockK);
          const x = f32[colMax + j] as number;
          if (x > (f32[at] as number)) f32[at] = x;
        }
      }
      continue;
    }
    for (let k0 = 0; k0 < nEff; k0 += TILE) {
      const kc = Math.min(TILE, nEff - k0);
      const kc4 = (kc + 3) & ~3;
      kern.quantScores(qi + r0 * stride, rc, ki + k0 * stride, kc, stride, rowScale + r0, keyScale + k0, s, TILE);
      for (let r = 0; r < rc; r++) {
        // Only tiles on the causal edge (and the padding columns) need -Infinity written.
        const first = Math.max(0, Math.min(kc, (i32[last + r0 + r] as number) - k0 + 1));
        if (first < kc4) f32.fill(NEG_INF, s + r * TILE + first, s + r * TILE + kc4);
      }
      kern.colMax(s, rc, kc4, TILE, colMax);
      for (let j = 0; j < kc; j++) {
        const at = out + Math.floor((k0 + j) / blockK);
        const x = f32[colMax + j] as number;
        if (x > (f32[at] as number)) f32[at] = x;
      }
    }
  }
}

interface QuantTask {
  qi: number;
  rows: number;
  ki: number;
  n: number;
  stride: number;
  rowScale: number;
  keyScale: number;
  out: number;
  outStride: number;
  last: number;
  blockK: number;
  rowBias: number;
  narrow: number;
}

function readQuantTask(i32: Int32Array, task: number): QuantTask {
  const at = (k: number): number => i32[task + k] as number;
  return {
    qi: at(0),
    rows: at(1),
    ki: at(2),
    n: at(3),
    stride: at(4),
    rowScale: at(5),
    keyScale: at(6),
    out: at(7),
    outStride: at(8),
    last: at(9),
    blockK: at(10),
    rowBias: at(11),
    narrow: at(12),
  };
}
