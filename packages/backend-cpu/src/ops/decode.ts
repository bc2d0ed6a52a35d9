import type { AttendResult, AttentionInput, DecodeOptions, TokenSelection } from '@sparseland/core';
import { fakeQuantizeRow, resolveDecodeCall } from '@sparseland/core/kit';
import type { Executor } from '../executor.js';
import { planDecode } from '../plan/decode-plan.js';
import { copyRows, packedFloats, packKeys } from '../plan/pack.js';
import { paddedDim, TILE } from '../scratch-layout.js';
import { runAttendJob } from './attend-job.js';

/**
 * Backend.decode: the selected slots of each kv head are gathered (and fake-quantised where a slot's precision is
 * below 32 bits, exactly as the reference does) into a small packed cache with their positions; the query rows of
 * every head of a GQA group are stacked into one task, so one pass over the gathered keys serves the whole group.
 */
export async function decode(exec: Executor, input: AttentionInput, options: DecodeOptions = {}): Promise<AttendResult> {
  const { shape, causal, scale, selection, scoreMod } = resolveDecodeCall(input, options);
  const { kvLength, dim } = shape;
  const dp = paddedDim(dim);
  const keyCount = (g: number): number => (selection ? selection.slotsOf(g).length : kvLength);
  const plan = planDecode(shape, causal, (g) => ({ count: keyCount(g), slots: selection?.slotsOf(g), gather: false }));

  return runAttendJob(exec, input.q, {
    shape,
    scale,
    rowOrder: plan.rowOrder,
    scoreMod,
    plan,
    sources: selection
      ? {
          kFloats: (g) => packedFloats(keyCount(g), dp),
          vFloats: (g) => keyCount(g) * dp,
          positions: (g) => keyCount(g),
          write: (g, f32, i32, k, v, pos) => writeSelected(input, selection, g, dp, f32, i32, k, v, pos),
        }
      : {
          kFloats: () => packedFloats(kvLength, dp),
          vFloats: () => kvLength * dp,
          positions: () => 0,
          write: (g, f32, _i32, k, v) => {
            packKeys(input.k, g, f32, k, dp);
            copyRows(input.v, g, f32, v, dp);
          },
        },
  });
}

/** Gathers kv head g's selected slots into packed K, V rows and a position list, fake-quantising low-precision slots. */
function writeSelected(
  input: AttentionInput,
  selection: TokenSelection,
  g: number,
  dp: number,
  f32: Float32Array,
  i32: Int32Array,
  kOff: number,
  vOff: number,
  posOff: number,
): void {
  const slots = selection.slotsOf(g);
  const bits = selection.precisionOf(g);
  const { dim, length } = input.k;
  const kd = input.k.data;
  const vd = input.v.data;
  const kRow = new Float32Array(dim);
  const vRow = new Float32Array(dim);
  const n = slots.length;
  for (let j = 0; j < n; j++) {
    const s = slots[j] as number;
    const at = (g * length + s) * dim;
    const b = bits ? (bits[j] as number) : 32;
    // Full-precision rows go straight from the input (no row copy, no view per row: this runs for every selected
    // slot of every decode step); low-precision ones through the fake quantisation the reference applies.
    const k = b < 32 ? kRow : kd;
    const v = b < 32 ? vRow : vd;
    const from = b < 32 ? 0 : at;
    if (b < 32) {
      for (let c = 0; c < dim; c++) {
        kRow[c] = kd[at + c] as number;
        vRow[c] = vd[at + c] as number;
      }
      fakeQuantizeRow(kRow, b);
      fakeQuantizeRow(vRow, b);
    }
    const chunk = kOff + (j >> 6) * TILE * dp + (j & 63);
    const vAt = vOff + j * dp;
    for (let c = 0; c < dim; c++) {
      f32[chunk + c * TILE] = k[from + c] as number;
      f32[vAt + c] = v[from + c] as number;
    }
    for (let c = dim; c < dp; c++) {
      f32[chunk + c * TILE] = 0;
      f32[vAt + c] = 0;
    }
    i32[posOff + j] = s;
  }
}
