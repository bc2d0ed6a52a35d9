import {
  type BlockScores,
  type QuantizedScoresOptions,
  quantizeRowTo,
  resolveQuantizedScoresCall,
  type ScoreInput,
  type ScoreRows,
} from '@sparseland/core/kit';
import { H, HEADER_INTS, OP_QUANT_POOL, OP_QUANT_ROWS, QUANT_TASK_INTS } from '../driver/job-layout.js';
import type { Executor } from '../executor.js';
import { paddedDim, TILE } from '../scratch-layout.js';

/**
 * Backend.quantizedScores. Q and K rows are quantised on the calling thread with core's quantizeRowTo (float64,
 * exactly the reference's integers and scales), stored as int8 rows padded to 8 bytes; the threads then take
 * exact integer dot products (WASM: i32x4.dot_i16x8_s) and scale them, or reduce them to block maxima.
 */
export async function quantizedScores(
  exec: Executor,
  input: ScoreInput,
  options: QuantizedScoresOptions,
): Promise<ScoreRows | BlockScores> {
  const call = resolveQuantizedScoresCall(input, options);
  const { shape, bits, scale, causal, pool, rowStart, rows } = call;
  const { heads, kvHeads, qLength, kvLength, dim, qOffset } = shape;
  const blockQ = pool?.blockQ ?? 0;
  const blockK = pool?.blockK ?? 0;
  const qBlocks = pool?.qBlocks ?? 0;
  const kBlocks = pool?.kBlocks ?? 0;
  const stride = (dim + 7) & ~7;

  const data = await exec.exclusive(async () => {
    const layout = exec.layout();
    const header = layout.alloc(HEADER_INTS);
    // int8 regions are addressed in bytes: 4 bytes per reserved element.
    const qi = layout.alloc((heads * rows * stride) / 4);
    const ki = layout.alloc((kvHeads * kvLength * stride) / 4);
    const rowScale = layout.alloc(heads * rows);
    const keyScale = layout.alloc(kvHeads * kvLength);
    const last = layout.alloc(heads * rows);
    const outFloats = pool ? heads * qBlocks * kBlocks : heads * rows * kvLength;
    const out = layout.alloc(outFloats);
    // One task per query block when pooled (block maxima never cross a block), else per tile of rows.
    const rowsPerTask = pool ? blockQ : TILE;
    const tasksPerHead = pool ? qBlocks : Math.ceil(rows / TILE);
    const taskCount = heads * tasksPerHead;
    const taskTable = layout.alloc(taskCount * QUANT_TASK_INTS);
    const scratch = exec.reserveScratch(layout, paddedDim(dim));
    exec.memory.ensure(layout.top);
    const { f32, i32, i8 } = exec.memory.views;
    i32.fill(0, header, header + HEADER_INTS);
    i32[header + H.TASKS] = taskCount;
    i32[header + H.OP] = pool ? OP_QUANT_POOL : OP_QUANT_ROWS;
    i32[header + H.DP] = paddedDim(dim);
    i32[header + H.TASK_TABLE] = taskTable;

    i8.fill(0, qi * 4, (ki + kvHeads * kvLength * (stride / 4)) * 4);
    const smoothed = new Float64Array(dim);
    const mean = new Float64Array(dim);
    for (let g = 0; g < kvHeads; g++) {
      mean.fill(0);
      if (call.smoothK) {
        const kd = input.k.data;
        for (let j = 0; j < kvLength; j++) {
          const at = (g * kvLength + j) * dim;
          for (let c = 0; c < dim; c++) mean[c] = (mean[c] as number) + (kd[at + c] as number);
        }
        for (let c = 0; c < dim; c++) mean[c] = (mean[c] as number) / kvLength;
      }
      for (let j = 0; j < kvLength; j++) {
        const at = (g * kvLength + j) * dim;
        for (let c = 0; c < dim; c++) smoothed[c] = (input.k.data[at + c] as number) - (mean[c] as number);
        f32[keyScale + g * kvLength + j] = quantizeRowTo(smoothed, 0, dim, bits, i8, ki * 4 + (g * kvLength + j) * stride);
      }
    }
    for (let h = 0; h < heads; h++) {
      for (let r = 0; r < rows; r++) {
        const i = rowStart + r;
        const sq = quantizeRowTo(input.q.data, (h * qLength + i) * dim, dim, bits, i8, qi * 4 + (h * rows + r) * stride);
        f32[rowScale + h * rows + r] = sq * scale;
        i32[last + h * rows + r] = causal ? Math.min(kvLength - 1, qOffset + i) : kvLength - 1;
      }
    }
    let t = taskTable;
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / (heads / kvHeads));
      const kiHead = ki * 4 + g * kvLength * stride;
      const ksHead = keyScale + g * kvLength;
      for (let n = 0; n < tasksPerHead; n++) {
        const r0 = n * rowsPerTask;
        const row = h * rows + r0;
        i32.set(
          [
            qi * 4 + row * stride,
            Math.min(rowsPerTask, rows - r0),
            kiHead,
            kvLength,
            stride,
            rowScale + row,
            ksHead,
            // Pooled: one output row of block maxima per query block; else one score row per query row.
            pool ? out + (h * qBlocks + n) * kBlocks : out + row * kvLength,
            pool ? 0 : kvLength,
            last + row,
            blockK,
          ],
          t,
        );
        t += QUANT_TASK_INTS;
      }
    }
    await exec.run(header, scratch, (heads * rows * kvLength * stride) / 4);
    return exec.memory.views.f32.slice(out, out + outFloats);
  });
  if (!pool) return { kind: 'rows', data, heads, rowStart, rows, kvLength };
  return { kind: 'blocks', data, heads, qBlocks, kBlocks, blockQ, blockK };
}
