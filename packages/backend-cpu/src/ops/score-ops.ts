import {
  type BlockScores,
  type LastQueriesCall,
  type LastQueriesOptions,
  type PooledScoresOptions,
  type ProbeSums,
  poolRows,
  probeSumsLayout,
  resolveLastQueriesCall,
  resolvePooledScoresCall,
  type ScoreInput,
  type ScoreRows,
} from '@sparseland/core/kit';
import { FLAG_SOFTMAX, H, HEADER_INTS, OP_SCORES, SCORES_TASK_INTS } from '../driver/job-layout.js';
import type { Executor } from '../executor.js';
import { PendingResult } from '../memory.js';
import { copyRows, packedFloats, packKeys } from '../plan/pack.js';
import { paddedDim, TILE } from '../scratch-layout.js';

/** A SCORES job: per query head, rows of Q (already in memory) against packed keys, optional softmax. */
interface ScoresJob {
  readonly heads: number;
  readonly kvHeads: number;
  readonly rowsPerHead: number;
  readonly keys: number;
  readonly dp: number;
  readonly scale: number;
  readonly softmax: boolean;
  /** Last kept key of (head, row), -1 for none. */
  readonly last: (h: number, r: number) => number;
  /** Writes query rows of head h (rowsPerHead rows of dp) at f32[at]. */
  readonly writeQ: (h: number, f32: Float32Array, at: number) => void;
  /** Writes the packed keys of kv head g at f32[at]. */
  readonly writeK: (g: number, f32: Float32Array, at: number) => void;
  /** Probe sums made by the tasks (one task per head): per head `keys` vertical and `slashLength` slash sums. */
  readonly sums?: { readonly slashLength: number; readonly slashIndex: (h: number) => number };
}

/** How a job's output (heads × rowsPerHead × keys floats at f32[at], in the backend's memory) comes back. */
interface Collect<T> {
  /** Runs while the threads compute: allocate result arrays here (see `PendingResult`). */
  readonly meanwhile?: () => void;
  /** Reads the output in place (must not keep the view); `sums` is the f64 index of the probe sums, if made. */
  readonly read: (f32: Float32Array, at: number, sums: number) => T;
}

/** The job's output copied out of the backend's memory into an array allocated while the threads compute. */
function copyOut(job: ScoresJob): Collect<Float32Array> {
  const data = PendingResult.floats(job.heads * job.rowsPerHead * job.keys);
  return { meanwhile: () => data.allocate(), read: (f32, at) => data.copyFrom(f32, at) };
}

/**
 * Runs the job and hands its output, still in the backend's memory, to `collect`: a reduction reads it in place
 * instead of allocating a copy of the whole score matrix.
 */
async function runScores<T>(exec: Executor, job: ScoresJob, collect: Collect<T>): Promise<T> {
  const { heads, kvHeads, rowsPerHead, keys, dp } = job;
  const layout = exec.layout();
  const header = layout.alloc(HEADER_INTS);
  const q = layout.alloc(heads * rowsPerHead * dp, 4 * dp + 64);
  const kStride = packedFloats(keys, dp);
  const k = layout.alloc(kvHeads * kStride);
  // A task is up to 64 rows of one head; a task that makes probe sums holds all of its head's rows (its sums are
  // its own), in chunks of 64 that reuse its output rows: only the sums are its result.
  const chunks = job.sums ? 1 : Math.ceil(rowsPerHead / TILE);
  const outRows = job.sums ? Math.min(TILE, rowsPerHead) : rowsPerHead;
  const out = layout.alloc(heads * outRows * keys);
  const last = layout.alloc(heads * rowsPerHead);
  // Probe sums in float64: f32 index at (even) is f64 index at / 2.
  const sumsAt = job.sums ? layout.alloc(2 * heads * (keys + job.sums.slashLength)) : -1;
  // Per output row, each key tile's maximum and sum of exponentials (the tasks that make sums).
  const statStride = 2 * Math.ceil(keys / TILE);
  const stats = job.sums ? layout.alloc(heads * outRows * statStride) : -1;
  const taskTable = layout.alloc(heads * chunks * SCORES_TASK_INTS);
  const scratch = exec.reserveScratch(layout, dp);
  exec.memory.ensure(layout.top);
  const { f32, i32 } = exec.memory.views;
  i32.fill(0, header, header + HEADER_INTS);
  i32[header + H.TASKS] = heads * chunks;
  i32[header + H.OP] = OP_SCORES;
  i32[header + H.DP] = dp;
  f32[header + H.SCALE] = job.scale;
  i32[header + H.TASK_TABLE] = taskTable;
  i32[header + H.FLAGS] = job.softmax ? FLAG_SOFTMAX : 0;
  for (let g = 0; g < kvHeads; g++) job.writeK(g, f32, k + g * kStride);
  const verticalAt = sumsAt >> 1;
  const slashAt = verticalAt + heads * keys;
  if (job.sums) exec.memory.views.f64.fill(0, verticalAt, slashAt + heads * job.sums.slashLength);
  let t = taskTable;
  for (let h = 0; h < heads; h++) {
    job.writeQ(h, f32, q + h * rowsPerHead * dp);
    const g = Math.floor(h / (heads / kvHeads));
    for (let r = 0; r < rowsPerHead; r++) i32[last + h * rowsPerHead + r] = job.last(h, r);
    for (let c = 0; c < chunks; c++) {
      const r0 = c * TILE;
      const row = h * rowsPerHead + r0;
      const outRow = h * outRows + r0;
      const sums = job.sums ? [verticalAt + h * keys, slashAt + job.sums.slashIndex(h) + r0, stats + outRow * statStride] : [-1, 0, -1];
      const rows = job.sums ? rowsPerHead : Math.min(TILE, rowsPerHead - r0);
      i32.set([q + row * dp, rows, k + g * kStride, keys, out + outRow * keys, keys, last + row, ...sums], t);
      t += SCORES_TASK_INTS;
    }
  }
  await exec.run(header, scratch, heads * rowsPerHead * keys * dp, undefined, collect.meanwhile);
  return collect.read(exec.memory.views.f32, out, sumsAt >> 1);
}

/** Backend.pooledScores: pooled rows in float64 (core's poolRows, as the reference), dot products on the kernels. */
export async function pooledScores(exec: Executor, input: ScoreInput, options: PooledScoresOptions): Promise<BlockScores> {
  const { shape, blockQ, blockK, qBlocks, kBlocks, qPool, kPool, scale, causal } = resolvePooledScoresCall(input, options);
  const { heads, kvHeads, qLength, kvLength, dim, qOffset } = shape;
  const dp = paddedDim(dim);
  const pooled = new Float64Array(dim);
  const job: ScoresJob = {
    heads,
    kvHeads,
    rowsPerHead: qBlocks,
    keys: kBlocks,
    dp,
    scale,
    softmax: false,
    last: (_h, qb) => {
      if (!causal) return kBlocks - 1;
      const lastQ = qOffset + Math.min(qLength, (qb + 1) * blockQ) - 1;
      return Math.min(kBlocks - 1, Math.floor(lastQ / blockK));
    },
    writeQ: (h, f32, at) => {
      // Blocks of one row pool to the row itself: copy it (estimators stream plain products through here).
      if (blockQ === 1) return copyRows(input.q, h, f32, at, dp);
      for (let qb = 0; qb < qBlocks; qb++) {
        poolRows(input.q, h, qb * blockQ, Math.min(qLength, (qb + 1) * blockQ), qPool, pooled);
        for (let c = 0; c < dp; c++) f32[at + qb * dp + c] = c < dim ? (pooled[c] as number) : 0;
      }
    },
    writeK: (g, f32, at) => {
      if (blockK === 1) return packKeys(input.k, g, f32, at, dp);
      const rows = new Float32Array(kBlocks * dim);
      for (let kb = 0; kb < kBlocks; kb++) {
        poolRows(input.k, g, kb * blockK, Math.min(kvLength, (kb + 1) * blockK), kPool, pooled);
        for (let c = 0; c < dim; c++) rows[kb * dim + c] = pooled[c] as number;
      }
      packKeys({ data: rows, heads: 1, length: kBlocks, dim }, 0, f32, at, dp);
    },
  };
  const data = await exec.exclusive(() => runScores(exec, job, copyOut(job)));
  return { kind: 'blocks', data, heads, qBlocks, kBlocks, blockQ, blockK };
}

/** Backend.lastQueriesAttention: scores of the last `count` rows against every key, softmax per row. */
export async function lastQueriesAttention(exec: Executor, input: ScoreInput, options: LastQueriesOptions): Promise<ScoreRows> {
  const call = resolveLastQueriesCall(input, options);
  const { shape, count, rowStart } = call;
  const job = lastQueriesJob(input, call);
  const data = await exec.exclusive(() => runScores(exec, job, copyOut(job)));
  return { kind: 'rows', data, heads: shape.heads, rowStart, rows: count, kvLength: shape.kvLength };
}

/**
 * Backend.lastQueriesSums: the same probe, summed by column and diagonal by the threads (one task per head, its rows
 * in chunks of 64), each row added to its head's sums as its chunk is done; only the sums are copied out.
 */
export async function lastQueriesSums(exec: Executor, input: ScoreInput, options: LastQueriesOptions): Promise<ProbeSums> {
  const call = resolveLastQueriesCall(input, options);
  const { shape, count, rowStart } = call;
  const { heads, kvLength } = shape;
  const { slashOrigin, slashLength, rowBase } = probeSumsLayout(call);
  const job: ScoresJob = { ...lastQueriesJob(input, call), sums: { slashLength, slashIndex: (h) => h * slashLength + rowBase } };
  const vertical = PendingResult.doubles(heads * kvLength);
  const slash = PendingResult.doubles(heads * slashLength);
  const collect: Collect<ProbeSums> = {
    meanwhile: () => {
      vertical.allocate();
      slash.allocate();
    },
    read: (_f32, _at, sums) => {
      const f64 = exec.memory.views.f64;
      return {
        kind: 'probe-sums',
        heads,
        rowStart,
        rows: count,
        kvLength,
        vertical: vertical.copyFrom(f64, sums),
        slash: slash.copyFrom(f64, sums + heads * kvLength),
        slashOrigin,
        slashLength,
      };
    },
  };
  return exec.exclusive(() => runScores(exec, job, collect));
}

/** The SCORES job of a validated last-queries call: its rows against every key, softmax per row. */
function lastQueriesJob(input: ScoreInput, call: LastQueriesCall): ScoresJob {
  const { shape, count, rowStart, scale, causal } = call;
  const { heads, kvHeads, qLength, kvLength, dim, qOffset } = shape;
  const dp = paddedDim(dim);
  return {
    heads,
    kvHeads,
    rowsPerHead: count,
    keys: kvLength,
    dp,
    scale,
    softmax: true,
    last: (_h, r) => (causal ? Math.min(kvLength - 1, qOffset + rowStart + r) : kvLength - 1),
    writeQ: (h, f32, at) => {
      const rows = input.q.data.subarray((h * qLength + rowStart) * dim, (h + 1) * qLength * dim);
      copyRows({ data: rows, heads: 1, length: count, dim }, 0, f32, at, dp);
    },
    writeK: (g, f32, at) => packKeys(input.k, g, f32, at, dp),
  };
}
