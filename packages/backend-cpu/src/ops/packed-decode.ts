import type { AttendResult, AttentionShape, PackedDecodeInput, PackedDecodeOptions, PackedKvBlock } from '@sparseland/core';
import { IntList, packedRowBytes, resolvePackedDecodeCall } from '@sparseland/core/kit';
import { ATTEND_TASK_INTS, PACKED_DESC_INTS, SEG_CAUSAL, SEG_PACKED, SEG_RANGE } from '../driver/job-layout.js';
import type { Executor } from '../executor.js';
import { sortByCost } from '../plan/attend-plan.js';
import { copyRows, packedFloats, packKeys } from '../plan/pack.js';
import { paddedDim, TILE } from '../scratch-layout.js';
import { runAttendJob } from './attend-job.js';

/** Floats one block takes in the job memory: its descriptor, codes (4 per float at 8 bits) and scales. */
function blockFloats(block: PackedKvBlock): number {
  const codes = Math.ceil((block.length * packedRowBytes(block.dim, block.bits)) / 4);
  return PACKED_DESC_INTS + 2 * codes + block.keyScale.length * 2 + block.valueScale.length * 2 + 8;
}

/**
 * Backend.decodePacked: each kv head's packed blocks are copied into the job memory as they are (codes, scales,
 * mins: a quarter or an eighth of the float32 bytes) and its full-precision rows as usual; the kernels dequantise one
 * 64-token tile at a time into the per-thread scratch (`unpackTile`) and run the ordinary online-softmax tile on it.
 * Slot positions are shifted per head so that every head's newest slot sits at the same position, which lets the
 * ragged heads share one row table (query i at position maxLength − qLength + i).
 */
export async function decodePacked(exec: Executor, input: PackedDecodeInput, options: PackedDecodeOptions = {}): Promise<AttendResult> {
  const call = resolvePackedDecodeCall(input, options);
  const { heads, kvHeads, qLength, dim, lengths, causal, scale } = call;
  const cache = input.cache;
  const dp = paddedDim(dim);
  const group = heads / kvHeads;
  let width = 0;
  for (const n of lengths) width = Math.max(width, n);
  const shape: AttentionShape = { heads, kvHeads, qLength, kvLength: width, qOffset: width - qLength, dim };
  const shift = (g: number): number => width - (lengths[g] as number);
  const fullRows = (g: number): number => (cache.heads[g]?.keys.length ?? 0) / dim;
  const fullKeyFloats = (g: number): number => packedFloats(fullRows(g), dp);
  const blocksFloats = (g: number): number => (cache.heads[g]?.blocks ?? []).reduce((sum, b) => sum + blockFloats(b), 0);

  // Segments per kv head: one per packed block, then the full-precision rows. Block descriptors live right after the
  // head's packed full-precision keys, so a segment names its descriptor relative to the source's K offset.
  const headSegments: number[][] = [];
  for (let g = 0; g < kvHeads; g++) {
    const segs: number[] = [];
    let slot = 0;
    let at = fullKeyFloats(g);
    for (const block of cache.heads[g]?.blocks ?? []) {
      if (block.length > 0) segs.push(SEG_PACKED, at, block.length, slot + shift(g));
      at += blockFloats(block);
      slot += block.length;
    }
    if (fullRows(g) > 0) segs.push(SEG_RANGE, 0, fullRows(g), slot + shift(g));
    headSegments.push(segs);
  }

  const rowOrder = new Int32Array(heads * qLength);
  const tasks = new IntList();
  const segments = new IntList();
  const costs: number[] = [];
  let work = 0;
  let t = 0;
  for (let g = 0; g < kvHeads; g++) {
    const first = t;
    for (let h = g * group; h < (g + 1) * group; h++) for (let i = 0; i < qLength; i++) rowOrder[t++] = h * qLength + i;
    const segs = headSegments[g] as number[];
    for (let r0 = first; r0 < t; r0 += TILE) {
      const rows = Math.min(TILE, t - r0);
      let minPos = Number.POSITIVE_INFINITY;
      for (let r = r0; r < r0 + rows; r++) minPos = Math.min(minPos, shape.qOffset + ((rowOrder[r] as number) % qLength));
      const segStart = segments.length / 4;
      let keys = 0;
      for (let s = 0; s < segs.length; s += 4) {
        const kind = segs[s] as number;
        const n = segs[s + 2] as number;
        const pos0 = segs[s + 3] as number;
        // Only segments reaching past some row's position need the causal test.
        const flags = causal && pos0 + n - 1 > minPos ? SEG_CAUSAL : 0;
        segments.push4(kind | flags, segs[s + 1] as number, n, kind === SEG_PACKED ? pos0 : 0);
        keys += n;
      }
      tasks.push4(r0, rows, segStart, segments.length / 4 - segStart);
      tasks.push(g);
      tasks.push(Math.floor((rowOrder[r0] as number) / qLength));
      costs.push(rows * keys + 64);
      work += rows * keys * dim;
    }
  }

  return runAttendJob(exec, input.q, {
    shape,
    scale,
    rowOrder,
    plan: {
      tasks: sortByCost(tasks.view(), costs, ATTEND_TASK_INTS),
      segments: segments.view(),
      bitmaps: new Int32Array(0),
      columns: new Int32Array(0),
      work,
    },
    sources: {
      kFloats: (g) => fullKeyFloats(g) + blocksFloats(g),
      vFloats: (g) => fullRows(g) * dp,
      positions: (g) => fullRows(g),
      write: (g, f32, i32, k, v, pos) => {
        const head = cache.heads[g];
        if (!head) return;
        const rows = fullRows(g);
        packKeys({ data: head.keys, heads: 1, length: rows, dim }, 0, f32, k, dp);
        copyRows({ data: head.values, heads: 1, length: rows, dim }, 0, f32, v, dp);
        let slot = 0;
        let at = k + fullKeyFloats(g);
        for (const block of head.blocks) {
          writeBlock(block, f32, i32, at);
          at += blockFloats(block);
          slot += block.length;
        }
        for (let j = 0; j < rows; j++) i32[pos + j] = slot + j + shift(g);
      },
    },
  });
}

/**
 * Writes a block at f32 index `at`: the descriptor (i32: bits, dim, keyGroup, valueGroup, valueGroups, rowBytes, key
 * codes byte address, keyScale, keyMin, value codes byte address, valueScale, valueMin), then the codes and scales.
 */
function writeBlock(block: PackedKvBlock, f32: Float32Array, i32: Int32Array, at: number): void {
  const rowBytes = packedRowBytes(block.dim, block.bits);
  const codeFloats = Math.ceil((block.length * rowBytes) / 4);
  const keyCodes = at + PACKED_DESC_INTS;
  const valueCodes = keyCodes + codeFloats;
  const keyScale = valueCodes + codeFloats;
  const keyMin = keyScale + block.keyScale.length;
  const valueScale = keyMin + block.keyMin.length;
  const valueMin = valueScale + block.valueScale.length;
  i32.set(
    [
      block.bits,
      block.dim,
      block.keyGroup,
      block.valueGroup,
      Math.ceil(block.dim / block.valueGroup),
      rowBytes,
      keyCodes * 4,
      keyScale,
      keyMin,
      valueCodes * 4,
      valueScale,
      valueMin,
    ],
    at,
  );
  const bytes = new Uint8Array(f32.buffer, f32.byteOffset);
  bytes.set(block.keyCodes, keyCodes * 4);
  bytes.set(block.valueCodes, valueCodes * 4);
  f32.set(block.keyScale, keyScale);
  f32.set(block.keyMin, keyMin);
  f32.set(block.valueScale, valueScale);
  f32.set(block.valueMin, valueMin);
}
