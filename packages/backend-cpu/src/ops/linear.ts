import { type LinearShape, type PreparedLinear, SparselandError } from '@sparseland/core';
import { expectLinearWeights, resolveLinearCall } from '@sparseland/core/kit';
import {
  H,
  HEADER_INTS,
  LIN_IN,
  LIN_OUT,
  LIN_OUT_STRIDE,
  LIN_WP,
  LIN_X,
  LIN_X_STRIDE,
  LINEAR_TASK_INTS,
  OP_LINEAR,
} from '../driver/job-layout.js';
import type { Executor } from '../executor.js';

/** Outputs per packed panel: two 4-lane vectors. */
const PANEL = 8;
/** Rows of x per task: 64 rows (64 KiB at inDim 256) stay in L2 while a task's weight panels pass through L1. */
const ROW_BLOCK = 64;
/** Tasks per thread a job aims for, so a slow thread (the machine is shared) does not hold the others up. */
const TASKS_PER_THREAD = 4;

/** Region of the arena a prepared matrix holds; freed by dispose() or when the handle is garbage-collected. */
interface Held {
  at: number;
  floats: number;
  /** dispose() was called: run() refuses from then on. */
  disposed: boolean;
  /** The region went back to the arena. */
  freed: boolean;
}

/**
 * Backend.prepareLinear: W [outDim × inDim] is packed once into the arena in panels of 8 outputs (zero-padded), and
 * every run copies x in, splits rows × panels into tasks for the threads, and copies y out.
 */
export function createLinearOps(exec: Executor, live: () => void) {
  // A handle the program dropped without dispose() gives its region back once it is collected.
  const collected = new FinalizationRegistry<Held>((held) => {
    void exec.exclusive(async () => release(held)).catch(() => undefined);
  });
  const release = (held: Held): void => {
    if (held.freed || exec.isDisposed) return;
    held.freed = true;
    exec.arena.free(held.at, held.floats);
  };

  async function prepareLinear(weights: Float32Array, shape: LinearShape): Promise<PreparedLinear> {
    live();
    const { outDim, inDim } = expectLinearWeights(weights, shape);
    const panels = Math.ceil(outDim / PANEL);
    const held: Held = await exec.exclusive(async () => {
      const floats = panels * PANEL * inDim;
      const at = exec.hold(floats);
      packPanels(exec.memory.views.f32, at, weights, outDim, inDim);
      return { at, floats, disposed: false, freed: false };
    });
    const handle: PreparedLinear = Object.freeze({
      outDim,
      inDim,
      async run(x: Float32Array, rows: number, out?: Float32Array): Promise<Float32Array> {
        live();
        if (held.disposed) throw new SparselandError('E_PARAMS', 'linear: this prepared weight matrix was disposed');
        const call = resolveLinearCall({ outDim, inDim }, x, rows, out);
        if (call.rows === 0) return call.out;
        return exec.exclusive(() => runLinear(exec, held.at, panels, inDim, outDim, x, call.rows, call.out));
      },
      dispose() {
        if (held.disposed) return;
        held.disposed = true;
        collected.unregister(held);
        // After any call still running on the region.
        void exec.exclusive(async () => release(held)).catch(() => undefined);
      },
    });
    collected.register(handle, held, held);
    return handle;
  }

  return { prepareLinear };
}

/** wp[(p·inDim + j)·8 + c] = W[8p + c][j], zero for outputs past outDim. */
function packPanels(f32: Float32Array, at: number, w: Float32Array, outDim: number, inDim: number): void {
  for (let o = 0; o < outDim; o++) {
    const base = at + (o >> 3) * inDim * PANEL + (o & 7);
    const row = o * inDim;
    for (let j = 0; j < inDim; j++) f32[base + j * PANEL] = w[row + j] as number;
  }
  const padded = Math.ceil(outDim / PANEL) * PANEL;
  for (let o = outDim; o < padded; o++) {
    const base = at + (o >> 3) * inDim * PANEL + (o & 7);
    for (let j = 0; j < inDim; j++) f32[base + j * PANEL] = 0;
  }
}

async function runLinear(
  exec: Executor,
  wp: number,
  panels: number,
  inDim: number,
  outDim: number,
  x: Float32Array,
  rows: number,
  out: Float32Array,
): Promise<Float32Array> {
  const outStride = panels * PANEL;
  // Split rows into blocks, and panels too when there are too few row blocks to keep every thread busy (a call
  // that runs on the calling thread, such as one decode row, keeps all panels in one task per row block).
  const rowBlocks = Math.ceil(rows / ROW_BLOCK);
  const threads = exec.runsInline(rows * inDim * outDim) ? 1 : exec.threads;
  const panelChunks = threads === 1 ? 1 : Math.min(panels, Math.max(1, Math.ceil((TASKS_PER_THREAD * threads) / rowBlocks)));
  const perChunk = Math.ceil(panels / panelChunks);
  const tasks: number[] = [];
  for (let r = 0; r < rows; r += ROW_BLOCK) {
    for (let p = 0; p < panels; p += perChunk) tasks.push(r, Math.min(ROW_BLOCK, rows - r), p, Math.min(panels, p + perChunk));
  }

  const layout = exec.layout();
  const header = layout.alloc(HEADER_INTS);
  const xs = layout.alloc(rows * inDim);
  const ys = layout.alloc(rows * outStride);
  const taskTable = layout.alloc(tasks.length);
  exec.memory.ensure(layout.top);
  const { f32, i32 } = exec.memory.views;
  i32.fill(0, header, header + HEADER_INTS);
  i32[header + H.TASKS] = tasks.length / LINEAR_TASK_INTS;
  i32[header + H.OP] = OP_LINEAR;
  i32[header + H.TASK_TABLE] = taskTable;
  i32[header + LIN_X] = xs;
  i32[header + LIN_X_STRIDE] = inDim;
  i32[header + LIN_WP] = wp;
  i32[header + LIN_IN] = inDim;
  i32[header + LIN_OUT] = ys;
  i32[header + LIN_OUT_STRIDE] = outStride;
  i32.set(tasks, taskTable);
  f32.set(x.subarray(0, rows * inDim), xs);

  // Linear tasks use no scratch.
  await exec.run(header, NO_SCRATCH, rows * inDim * outDim);

  const y = exec.memory.views.f32;
  if (outStride === outDim) out.set(y.subarray(ys, ys + rows * outDim));
  else for (let r = 0; r < rows; r++) out.set(y.subarray(ys + r * outStride, ys + r * outStride + outDim), r * outDim);
  return out;
}

const NO_SCRATCH: readonly number[] = new Array(1 + 64).fill(0);
