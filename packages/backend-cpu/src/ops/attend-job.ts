import { type AttendResult, type AttentionShape, createHeadTensor, type HeadTensor, type ScoreMod } from '@sparseland/core';
import {
  ATTEND_TASK_INTS,
  H,
  HEADER_INTS,
  OP_ATTEND,
  ROW_INTS,
  SEG_COLUMNS,
  SEG_INTS,
  SEG_KIND_MASK,
  SEG_PARTIAL,
  SOURCE_INTS,
} from '../driver/job-layout.js';
import { H_ROW_HEADS } from '../driver/run-job.js';
import type { Executor } from '../executor.js';
import { PendingResult } from '../memory.js';
import type { AttendPlan } from '../plan/attend-plan.js';
import { copyRows, packedFloats } from '../plan/pack.js';
import { paddedDim, TILE } from '../scratch-layout.js';
import { inPlaceIndex } from './backend-tensors.js';

/** Where kv heads' keys come from: copied into the call's layout, or already resident in the arena. */
export type KeySources = CopiedKeys | ResidentKeys;

/** Keys copied in per call: sizes to reserve and a writer for the packed K, V rows and positions. */
export interface CopiedKeys {
  readonly resident?: undefined;
  readonly kFloats: (g: number) => number;
  readonly vFloats: (g: number) => number;
  /** Where kv head g's V rows already are in the memory (a backend tensor read in place), or -1: copy them. */
  readonly vResident?: ((g: number) => number) | undefined;
  /** Number of key positions listed (0: a key's position is its index). */
  readonly positions: (g: number) => number;
  readonly write: (g: number, f32: Float32Array, i32: Int32Array, k: number, v: number, pos: number) => void;
}

/** Keys already packed in the arena (a KV store): where kv head g's packed K chunks and V rows are. */
export interface ResidentKeys {
  readonly resident: (g: number) => { readonly k: number; readonly v: number };
}

export interface AttendJob {
  readonly shape: AttentionShape;
  readonly scale: number;
  readonly plan: AttendPlan;
  readonly sources: KeySources;
  /** Row table order as absolute rows h·qLength + i (default: head-major order). */
  readonly rowOrder?: Int32Array | undefined;
  readonly scoreMod?: ScoreMod | undefined;
  /** The caller's output tensor (AttendOptions.out, checked), written in place of a new one. */
  readonly out?: HeadTensor | undefined;
}

/**
 * Copies keys `keys` of a kv head (packed K chunks and V rows already in memory at `from`) into a column pool: packed
 * 64-key chunks of their own, their V rows, and their positions (the key indices, as gathered columns have).
 */
function gatherPool(
  f32: Float32Array,
  i32: Int32Array,
  from: { k: number; v: number },
  keys: Int32Array,
  to: { k: number; v: number; pos: number },
  dp: number,
): void {
  for (let j = 0; j < keys.length; j++) {
    const key = keys[j] as number;
    const src = from.k + (key >> 6) * TILE * dp + (key & (TILE - 1));
    const dst = to.k + (j >> 6) * TILE * dp + (j & (TILE - 1));
    for (let c = 0; c < dp; c++) f32[dst + c * TILE] = f32[src + c * TILE] as number;
    f32.copyWithin(to.v + j * dp, from.v + key * dp, from.v + (key + 1) * dp);
    i32[to.pos + j] = key;
  }
}

/**
 * Lays out an attention job in the executor's memory (Q, keys, outputs, tables, scratch), runs it and reads back
 * the output and the log-sum-exp. The calling thread copies inputs in and results out; the threads do the rest.
 */
export async function runAttendJob(exec: Executor, q: HeadTensor, job: AttendJob): Promise<AttendResult> {
  const { shape, plan, sources } = job;
  const { heads, kvHeads, qLength, dim } = shape;
  const dp = paddedDim(dim);
  const rowsTotal = heads * qLength;
  // Tensors in the backend's memory (allocateTensor) are read and written where they are; the kernels' reads past a
  // region's end stay inside the memory.
  const qIn = inPlaceIndex(exec, q);
  const outIn = job.out ? inPlaceIndex(exec, job.out) : -1;
  const layout = exec.layout();
  const header = layout.alloc(HEADER_INTS);
  const qAt = qIn >= 0 ? qIn : layout.alloc(rowsTotal * dp, 4 * dp + 64);
  const out = outIn >= 0 ? outIn : layout.alloc(rowsTotal * dp);
  const stats = layout.alloc(rowsTotal * 2);
  const src: { k: number; v: number; pos: number }[] = [];
  for (let g = 0; g < kvHeads; g++) {
    if (sources.resident) src.push({ ...sources.resident(g), pos: -1 });
    else {
      const v = sources.vResident?.(g) ?? -1;
      src.push({
        k: layout.alloc(sources.kFloats(g)),
        v: v >= 0 ? v : layout.alloc(sources.vFloats(g)),
        pos: layout.alloc(sources.positions(g)),
      });
    }
  }
  const pools = plan.pools ?? [];
  const poolAt = pools.map((p) => ({
    k: layout.alloc(packedFloats(p.keys.length, dp)),
    v: layout.alloc(p.keys.length * dp),
    pos: layout.alloc(p.keys.length),
  }));
  const sourceTable = layout.alloc((kvHeads + pools.length) * SOURCE_INTS);
  const rowTable = layout.alloc(rowsTotal * ROW_INTS);
  const taskTable = layout.alloc(plan.tasks.length);
  const segTable = layout.alloc(plan.segments.length);
  const bitmaps = layout.alloc(plan.bitmaps.length);
  const columns = layout.alloc(plan.columns.length);
  const rowHeads = job.scoreMod ? layout.alloc(rowsTotal) : -1;
  const scratch = exec.reserveScratch(layout, dim);
  exec.memory.ensure(layout.top);
  const { f32, i32 } = exec.memory.views;

  i32.fill(0, header, header + HEADER_INTS);
  i32[header + H.TASKS] = plan.tasks.length / ATTEND_TASK_INTS;
  i32[header + H.OP] = OP_ATTEND;
  i32[header + H.DP] = dp;
  f32[header + H.SCALE] = job.scale;
  i32[header + H.TASK_TABLE] = taskTable;
  i32[header + H.ROW_TABLE] = rowTable;
  i32[header + H.SEG_TABLE] = segTable;
  i32[header + H.SOURCE_TABLE] = sourceTable;
  i32[header + H_ROW_HEADS] = rowHeads;

  if (qIn < 0) for (let h = 0; h < heads; h++) copyRows(q, h, f32, qAt + h * qLength * dp, dp);
  for (let g = 0; g < kvHeads; g++) {
    const s = src[g] as { k: number; v: number; pos: number };
    const listed = !sources.resident && sources.positions(g) > 0;
    if (!sources.resident) sources.write(g, f32, i32, s.k, s.v, s.pos);
    i32[sourceTable + g * SOURCE_INTS] = s.k;
    i32[sourceTable + g * SOURCE_INTS + 1] = s.v;
    i32[sourceTable + g * SOURCE_INTS + 2] = listed ? s.pos : -1;
  }
  pools.forEach((pool, i) => {
    const from = src[pool.kvHead] as { k: number; v: number };
    const to = poolAt[i] as { k: number; v: number; pos: number };
    gatherPool(f32, i32, from, pool.keys, to, dp);
    const at = sourceTable + (kvHeads + i) * SOURCE_INTS;
    i32[at] = to.k;
    i32[at + 1] = to.v;
    i32[at + 2] = to.pos;
  });
  const order = job.rowOrder;
  for (let t = 0; t < rowsTotal; t++) {
    const row = order ? (order[t] as number) : t;
    const at = rowTable + t * ROW_INTS;
    i32[at] = qAt + row * dp;
    i32[at + 1] = out + row * dp;
    i32[at + 2] = stats + row * 2;
    i32[at + 3] = shape.qOffset + (row % qLength);
    if (rowHeads >= 0) i32[rowHeads + t] = Math.floor(row / qLength);
  }
  i32.set(plan.tasks, taskTable);
  i32.set(plan.segments, segTable);
  // Relocate segment references to the bitmap and column pools.
  for (let s = 0; s < plan.segments.length; s += SEG_INTS) {
    const kind = (plan.segments[s] as number) & SEG_KIND_MASK;
    if (kind === SEG_COLUMNS) i32[segTable + s + 1] = columns + (plan.segments[s + 1] as number);
    else if (kind === SEG_PARTIAL) i32[segTable + s + 3] = bitmaps + (plan.segments[s + 3] as number);
  }
  i32.set(plan.bitmaps, bitmaps);
  i32.set(plan.columns, columns);

  const outData = job.out ? undefined : PendingResult.floats(rowsTotal * dim);
  await exec.run(header, scratch, plan.work, job.scoreMod, () => outData?.allocate());

  const views = exec.memory.views;
  const output = job.out ?? createHeadTensor(heads, qLength, dim, outData?.take());
  // An output in the backend's memory was written in place by the kernels.
  if (outIn < 0) {
    if (dp === dim) output.data.set(views.f32.subarray(out, out + rowsTotal * dim));
    else for (let r = 0; r < rowsTotal; r++) output.data.set(views.f32.subarray(out + r * dp, out + r * dp + dim), r * dim);
  }
  const lse = new Float32Array(rowsTotal);
  for (let r = 0; r < rowsTotal; r++) {
    const sum = views.f32[stats + 2 * r + 1] as number;
    lse[r] = sum > 0 ? (views.f32[stats + 2 * r] as number) + Math.log(sum) : Number.NEGATIVE_INFINITY;
  }
  return { output, lse };
}
