import {
  type BlockScores,
  channelMeans,
  type QuantizedScoresOptions,
  quantizeRowsGrouped,
  resolveQuantizedScoresCall,
  type ScoreInput,
  type ScoreRows,
} from '@sparseland/core/kit';
import { H, HEADER_INTS, OP_QUANT_POOL, OP_QUANT_ROWS, QUANT_TASK_INTS } from '../driver/job-layout.js';
import type { Executor } from '../executor.js';
import { paddedDim, TILE } from '../scratch-layout.js';

/**
 * Backend.quantizedScores. Q and K rows are quantised on the calling thread with core's quantizeRowsGrouped
 * (float64, exactly the reference's integers and scales, per token or per group), stored as int8 rows padded to 16
 * bytes; the threads then take exact integer dot products (WASM: i32x4.dot_i16x8_s, or 8-bit relaxed dot products
 * for 4-bit values) and scale them, or reduce them to block maxima. With `rowBias` the pooled path runs one fused
 * kernel per tile that subtracts each row's offset and keeps only each key's maximum over the rows.
 */
export async function quantizedScores(
  exec: Executor,
  input: ScoreInput,
  options: QuantizedScoresOptions,
): Promise<ScoreRows | BlockScores> {
  const call = resolveQuantizedScoresCall(input, options);
  const { shape, bits, scale, causal, pool, rowStart, rows, rowBias } = call;
  const { heads, kvHeads, qLength, kvLength, dim, qOffset } = shape;
  const blockQ = pool?.blockQ ?? 0;
  const blockK = pool?.blockK ?? 0;
  const qBlocks = pool?.qBlocks ?? 0;
  const kBlocks = pool?.kBlocks ?? 0;
  const stride = (dim + 15) & ~15;

  const data = await exec.exclusive(async () => {
    const layout = exec.layout();
    const header = layout.alloc(HEADER_INTS);
    // int8 regions are addressed in bytes: 4 bytes per reserved element.
    const qi = layout.alloc((heads * rows * stride) / 4);
    // Biased pooling reads K in groups of 8 keys with channel pairs interleaved (quantBiasColMaxT): keys per head
    // are padded to a multiple of 8 there.
    const transposed = rowBias !== undefined && pool !== undefined;
    const keysPerHead = transposed ? (kvLength + 7) & ~7 : kvLength;
    const ki = layout.alloc((kvHeads * keysPerHead * stride) / 4);
    const rowScale = layout.alloc(heads * rows);
    const keyScale = layout.alloc(kvHeads * kvLength);
    const last = layout.alloc(heads * rows);
    const bias = rowBias ? layout.alloc(heads * rows) : -1;
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

    i8.fill(0, qi * 4, (ki + kvHeads * keysPerHead * (stride / 4)) * 4);
    const means = call.smoothK ? channelMeans(input.k.data, kvHeads, kvLength, dim) : undefined;
    const kRows = transposed ? new Int8Array(kvHeads * kvLength * stride) : i8;
    const kScales = quantizeRowsGrouped(
      input.k.data,
      { heads: kvHeads, length: kvLength, dim },
      bits,
      call.kGroup,
      means,
      0,
      kvLength,
      kRows,
      transposed ? 0 : ki * 4,
      stride,
    );
    if (transposed) interleavePairs(kRows, kvHeads, kvLength, keysPerHead, stride, i8, ki * 4);
    f32.set(kScales, keyScale);
    const qScales = quantizeRowsGrouped(
      input.q.data,
      { heads, length: qLength, dim },
      bits,
      call.qGroup,
      undefined,
      rowStart,
      rows,
      i8,
      qi * 4,
      stride,
    );
    for (let h = 0; h < heads; h++) {
      for (let r = 0; r < rows; r++) {
        const i = rowStart + r;
        f32[rowScale + h * rows + r] = (qScales[h * rows + r] as number) * scale;
        i32[last + h * rows + r] = causal ? Math.min(kvLength - 1, qOffset + i) : kvLength - 1;
      }
    }
    if (rowBias) f32.set(rowBias, bias);
    let t = taskTable;
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / (heads / kvHeads));
      const kiHead = ki * 4 + g * keysPerHead * stride;
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
            rowBias ? bias + row : -1,
            bits === 4 && stride <= 256 ? 1 : 0,
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

/**
 * K's int8 rows ([heads][length][stride]) rearranged for quantBiasColMaxT: per head, groups of 8 keys (the last one
 * zero padded), and in each group, for every channel pair p, 16 bytes = keys 0..7 × channels (2p, 2p + 1).
 */
function interleavePairs(rows: Int8Array, heads: number, length: number, padded: number, stride: number, out: Int8Array, at: number): void {
  for (let g = 0; g < heads; g++) {
    for (let j = 0; j < length; j++) {
      const src = (g * length + j) * stride;
      const group = at + (g * padded + (j & ~7)) * stride + (j & 7) * 2;
      for (let p = 0; p < stride / 2; p++) {
        out[group + p * 16] = rows[src + 2 * p] as number;
        out[group + p * 16 + 1] = rows[src + 2 * p + 1] as number;
      }
    }
  }
}
