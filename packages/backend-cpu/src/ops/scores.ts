import {
  columnMaxArray,
  poolRows,
  resolveScoresCall,
  type ScoreInput,
  type ScoresCall,
  type ScoresOptions,
  type ScoresResult,
} from '@sparseland/core/kit';
import * as F from '../driver/job-layout.js';
import { H, H_SCORES, HEADER_INTS, OP_SCORE_REDUCE, SCORES_TASK_FIELDS, SD, SD_INTS } from '../driver/job-layout.js';
import { scoresScratchLayout } from '../driver/scores-task.js';
import type { Executor } from '../executor.js';
import { STAT_INTS } from '../kernels.js';
import { PendingResult } from '../memory.js';
import { copyRows, packedFloats, packKeys } from '../plan/pack.js';
import { paddedDim, scratchFloats, TILE } from '../scratch-layout.js';
import { preparedKeys, preparedQueries } from './prepared-input.js';

/** Top-k candidates one thread keeps (u64 each): rows per task shrink so that 2k candidates per row fit. */
const TOPK_CANDIDATES = 1 << 18;

/**
 * Backend.scores: the (pooled) query rows and the keys are copied into the shared memory once; tasks of up to 64
 * rows of one head (or one key group) score 64-key tiles on the kernels and fold them into the reductions there, so
 * only the reductions (and the scores, when asked for) are read back.
 */
export async function scores(exec: Executor, input: ScoreInput, options: ScoresOptions = {}): Promise<ScoresResult> {
  const call = resolveScoresCall(input, options);
  return exec.exclusive(() => runScores(exec, input, call));
}

async function runScores(exec: Executor, input: ScoreInput, call: ScoresCall): Promise<ScoresResult> {
  const { shape, rows, keys, keyCount, topK, atLeastWords: words } = call;
  const { heads, kvHeads, kvLength, dim } = shape;
  const R = rows.length;
  const dp = paddedDim(dim);
  const cap = 2 * topK;
  const rowsPerTask = topK > 0 ? Math.min(TILE, Math.max(1, Math.floor(TOPK_CANDIDATES / cap))) : TILE;
  const groups = keys.kind === 'groups' ? keys : undefined;
  const stats = call.max || call.min || call.moments;

  // A range of keys starting on a 64-key boundary reads packed 64-key tiles in place; other key sets gather.
  const packed = keys.kind === 'range' && keys.start % TILE === 0;
  const kStride = packed ? packedFloats(kvLength, dp) : kvLength * dp;
  const writeKeys = (f32: Float32Array, at: number): void => {
    for (let g = 0; g < kvHeads; g++) {
      if (packed) packKeys(input.k, g, f32, at + g * kStride, dp);
      else copyRows(input.k, g, f32, at + g * kStride, dp);
    }
  };
  // Queries and keys with the slack their kernels may read past the end (a 4-row or 8-key register tile).
  const qFloats = heads * R * dp;
  const qSlack = 4 * dp + 64;
  const kFloats = kvHeads * kStride;
  const kSlack = 256;
  // A prepared input's copies live in the arena (made by the first call that needs them), so they come before the
  // layout, which starts above the arena.
  const heldQ = preparedQueries(exec, input, call.rows, call.queryBlock, qFloats + qSlack, (f32, at) =>
    writeQueries(f32, at, dp, input, call),
  );
  const heldK = preparedKeys(exec, input, packed ? 'packed' : 'rows', kFloats + kSlack, writeKeys);
  const layout = exec.layout();
  const header = layout.alloc(HEADER_INTS);
  const desc = layout.alloc(SD_INTS);
  const q = heldQ >= 0 ? heldQ : layout.alloc(qFloats, qSlack);
  const k = heldK >= 0 ? heldK : layout.alloc(kFloats, kSlack);
  const lo = layout.alloc(R);
  const hi = layout.alloc(R);
  const list = keys.kind === 'list' ? layout.alloc(keys.list.length) : -1;
  const out = call.output ? layout.alloc(heads * R * keyCount) : -1;
  const statBase = stats ? layout.alloc(heads * R * STAT_INTS) : -1;
  const topValues = topK > 0 ? layout.alloc(heads * R * topK) : -1;
  const topIndices = topK > 0 ? layout.alloc(heads * R * topK) : -1;
  const thresholds = call.atLeast ? layout.alloc(2 * heads * R) : -1;
  const bits = call.atLeast ? layout.alloc(heads * R * words) : -1;
  const groupRows = groups ? layout.alloc(groups.groups.length) : -1;
  const offsets = groups ? layout.alloc(groups.offsets.length) : -1;
  const indices = groups ? layout.alloc(groups.indices.length) : -1;
  const colMax = groups ? layout.alloc(groups.indices.length) : -1;
  const tasks: number[] = [];
  if (groups) {
    const G = groups.groups.length - 1;
    // Group by group, the heads of a group one after another: query heads sharing a kv head often list the same
    // keys for the same rows (a tree search's first level is the same for every head), still in cache for the next.
    for (let t = 0; t < G; t++) {
      for (let h = 0; h < heads; h++) {
        const empty = groups.groups[t] === groups.groups[t + 1] || groups.offsets[h * G + t] === groups.offsets[h * G + t + 1];
        if (!empty) tasks.push(h, t, 0);
      }
    }
  } else if (keyCount > 0) {
    for (let h = 0; h < heads; h++) for (let r0 = 0; r0 < R; r0 += rowsPerTask) tasks.push(h, r0, Math.min(R, r0 + rowsPerTask));
  }
  const taskTable = layout.alloc(tasks.length);
  const extra = scoresScratchLayout(dp, rowsPerTask, cap).floats;
  const scratch = exec.reserveScratch(layout, dim, extra);
  exec.memory.ensure(layout.top);

  const { f32, i32, f64 } = exec.memory.views;
  i32.fill(0, header, header + HEADER_INTS);
  i32[header + H.TASKS] = tasks.length / SCORES_TASK_FIELDS;
  i32[header + H.OP] = OP_SCORE_REDUCE;
  i32[header + H.DP] = dp;
  f32[header + H.SCALE] = call.scale;
  i32[header + H.TASK_TABLE] = taskTable;
  i32[header + H_SCORES] = desc;
  i32.set(tasks, taskTable);
  const flags =
    (call.output ? F.SF_OUTPUT : 0) |
    (call.max ? F.SF_MAX : 0) |
    (call.min ? F.SF_MIN : 0) |
    (call.moments ? F.SF_MOMENTS : 0) |
    (topK > 0 ? F.SF_TOPK : 0) |
    (call.atLeast ? F.SF_ATLEAST : 0) |
    (call.columnMax ? F.SF_COLMAX : 0) |
    (packed ? F.SF_PACKED_K : 0);
  i32.fill(0, desc, desc + SD_INTS);
  i32[desc + SD.FLAGS] = flags;
  i32[desc + SD.ROWS] = R;
  i32[desc + SD.Q] = q;
  i32[desc + SD.K] = k;
  i32[desc + SD.KV_LENGTH] = kvLength;
  i32[desc + SD.GROUP] = heads / kvHeads;
  i32[desc + SD.KEY_LIST] = list;
  i32[desc + SD.KEY_START] = keys.kind === 'range' ? keys.start : 0;
  i32[desc + SD.KEY_COUNT] = keyCount;
  i32[desc + SD.LO] = lo;
  i32[desc + SD.HI] = hi;
  i32[desc + SD.OUT] = out;
  i32[desc + SD.STATS] = statBase;
  i32[desc + SD.TOPK_K] = topK;
  i32[desc + SD.TOPK_CAP] = cap;
  i32[desc + SD.TOPK_VALUES] = topValues;
  i32[desc + SD.TOPK_INDICES] = topIndices;
  i32[desc + SD.ATLEAST_T] = thresholds;
  i32[desc + SD.ATLEAST_WORDS] = words;
  i32[desc + SD.ATLEAST_BITS] = bits;
  i32[desc + SD.GROUPS] = groupRows;
  i32[desc + SD.GROUP_COUNT] = groups ? groups.groups.length - 1 : 0;
  i32[desc + SD.OFFSETS] = offsets;
  i32[desc + SD.INDICES] = indices;
  i32[desc + SD.COLMAX] = colMax;
  i32[desc + SD.EXTRA] = scratchFloats(dp);

  if (heldQ < 0) writeQueries(f32, q, dp, input, call);
  if (heldK < 0) writeKeys(f32, k);
  i32.set(call.keyLo, lo);
  i32.set(call.keyHi, hi);
  if (keys.kind === 'list') i32.set(keys.list, list);
  if (out >= 0) f32.fill(Number.NEGATIVE_INFINITY, out, out + heads * R * keyCount);
  if (stats) {
    for (let row = 0; row < heads * R; row++) {
      const rec = statBase + row * STAT_INTS;
      f32[rec] = Number.NEGATIVE_INFINITY;
      i32[rec + 1] = -1;
      f32[rec + 2] = Number.POSITIVE_INFINITY;
      i32[rec + 3] = -1;
      f64.fill(0, (rec + 4) >> 1, (rec + 10) >> 1);
    }
  }
  if (call.atLeast) {
    f64.set(call.atLeast, thresholds >> 1);
    i32.fill(0, bits, bits + heads * R * words);
  }
  if (groups) {
    i32.set(groups.groups, groupRows);
    i32.set(groups.offsets, offsets);
    i32.set(groups.indices, indices);
    f32.fill(Number.NEGATIVE_INFINITY, colMax, colMax + groups.indices.length);
  }

  let pairs = 0;
  if (groups) {
    const G = groups.groups.length - 1;
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < G; t++) {
        pairs +=
          ((groups.groups[t + 1] as number) - (groups.groups[t] as number)) *
          ((groups.offsets[h * G + t + 1] as number) - (groups.offsets[h * G + t] as number));
      }
    }
  } else pairs = heads * R * keyCount;
  // The large result arrays are allocated while the threads compute (their fresh pages mapped meanwhile).
  const colMaxOut = groups && !call.columnMaxInto ? PendingResult.floats(groups.indices.length) : undefined;
  const scoresOut = out >= 0 ? PendingResult.floats(heads * R * keyCount) : undefined;
  const bitsOut = call.atLeast ? PendingResult.ints(heads * R * words) : undefined;
  await exec.run(header, scratch, pairs * dp, undefined, () => {
    colMaxOut?.allocate();
    scoresOut?.allocate();
    bitsOut?.allocate();
  });

  const v = exec.memory.views;
  if (groups) {
    // Into the caller's array (into.columnMax), or the new one mapped while the threads computed.
    if (colMaxOut) return { kind: 'scores', heads, rows: R, keys: 0, columnMax: colMaxOut.copyFrom(v.f32, colMax) };
    const columnMax = columnMaxArray(call);
    columnMax.set(v.f32.subarray(colMax, colMax + groups.indices.length));
    return { kind: 'scores', heads, rows: R, keys: 0, columnMax };
  }
  const result: {
    -readonly [K in keyof ScoresResult]: ScoresResult[K];
  } = { kind: 'scores', heads, rows: R, keys: keyCount };
  if (scoresOut) result.scores = scoresOut.copyFrom(v.f32, out);
  if (stats) {
    const n = heads * R;
    const field = (at: number, ints: boolean) => {
      const a = ints ? new Int32Array(n) : new Float32Array(n);
      for (let row = 0; row < n; row++) a[row] = (ints ? v.i32 : v.f32)[statBase + row * STAT_INTS + at] as number;
      return a;
    };
    if (call.max) result.max = { values: field(0, false) as Float32Array, indices: field(1, true) as Int32Array };
    if (call.min) result.min = { values: field(2, false) as Float32Array, indices: field(3, true) as Int32Array };
    if (call.moments) {
      const count = new Int32Array(n);
      const sum = new Float64Array(n);
      const sumSquares = new Float64Array(n);
      for (let row = 0; row < n; row++) {
        const at = (statBase + row * STAT_INTS + 4) >> 1;
        count[row] = v.f64[at] as number;
        sum[row] = v.f64[at + 1] as number;
        sumSquares[row] = v.f64[at + 2] as number;
      }
      result.moments = { count, sum, sumSquares };
    }
  }
  if (topK > 0) {
    result.topK = {
      k: topK,
      values: v.f32.slice(topValues, topValues + heads * R * topK),
      indices: v.i32.slice(topIndices, topIndices + heads * R * topK),
    };
  }
  if (bitsOut) result.atLeast = { words, bits: bitsOut.copyFrom(v.i32, bits) };
  return result;
}

/** The requested (pooled) query rows of every head as rows of dp floats: means in float64 as core's poolRows. */
function writeQueries(f32: Float32Array, at: number, dp: number, input: ScoreInput, call: ScoresCall): void {
  const { heads, qLength, dim } = call.shape;
  const R = call.rows.length;
  const { data } = input.q;
  if (call.queryBlock === 1 && R === qLength) {
    for (let h = 0; h < heads; h++) copyRows(input.q, h, f32, at + h * R * dp, dp);
    return;
  }
  const pooled = new Float64Array(dim);
  for (let h = 0; h < heads; h++) {
    for (let r = 0; r < R; r++) {
      const dst = at + (h * R + r) * dp;
      const row = call.rows[r] as number;
      if (call.queryBlock === 1) {
        // One set() of a subarray per row: faster than an element loop (8 vs 13 ms for 128K rows of 64 floats).
        const src = (h * qLength + row) * dim;
        f32.set(data.subarray(src, src + dim), dst);
      } else {
        poolRows(input.q, h, row * call.queryBlock, Math.min(qLength, (row + 1) * call.queryBlock), 'mean', pooled);
        for (let c = 0; c < dim; c++) f32[dst + c] = pooled[c] as number;
      }
      if (dim < dp) f32.fill(0, dst + dim, dst + dp);
    }
  }
}
