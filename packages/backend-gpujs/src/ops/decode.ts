import {
  type AttendResult,
  type AttentionInput,
  createHeadTensor,
  type DecodeOptions,
  fakeQuantizeRow,
  type HeadTensor,
  resolveAttentionShape,
  resolveScale,
  SparselandError,
  type TokenSelection,
} from '@sparseland/core';
import { densePlan } from '../plan/dense-plan.js';
import { selectionPlan } from '../plan/selection-plan.js';
import type { GpuContext } from './context.js';
import { runPlan } from './run-plan.js';

/**
 * Backend.decode: a few new queries over a cache, reading only the selected slots (gathered 64 at a time). Slots
 * stored below 32 bits are fake-quantised on the host first, as the reference does (O(selected slots · dim)).
 */
export async function decode(ctx: GpuContext, input: AttentionInput, options: DecodeOptions = {}): Promise<AttendResult> {
  const shape = resolveAttentionShape(input, { checkFinite: false });
  const causal = options.causal ?? true;
  const selection = options.selection;
  if (selection && (selection.kvHeads !== shape.kvHeads || selection.kvLength !== shape.kvLength)) {
    throw new SparselandError(
      'E_SHAPE',
      `selection was made for ${selection.kvHeads} kv heads over ${selection.kvLength} slots, but the cache has ${shape.kvHeads} kv heads and ${shape.kvLength} slots`,
    );
  }
  const plan = selection ? selectionPlan(shape, selection, causal) : densePlan(shape, causal);
  const cache = selection?.precision ? lowPrecisionCache(input.k, input.v, selection) : { k: input.k, v: input.v };
  return runPlan(ctx, plan, {
    q: input.q,
    k: cache.k,
    v: cache.v,
    shape,
    causal,
    scale: resolveScale(options.scale, shape.dim),
    scoreMod: options.scoreMod,
  });
}

/** K and V with each low-precision selected slot rounded as stored (copies; the caller's cache is untouched). */
function lowPrecisionCache(k: HeadTensor, v: HeadTensor, selection: TokenSelection): { k: HeadTensor; v: HeadTensor } {
  const kq = createHeadTensor(k.heads, k.length, k.dim, k.data.slice());
  const vq = createHeadTensor(v.heads, v.length, v.dim, v.data.slice());
  const d = k.dim;
  for (let g = 0; g < selection.kvHeads; g++) {
    const slots = selection.slotsOf(g);
    const bits = selection.precisionOf(g) as Uint8Array;
    for (let p = 0; p < slots.length; p++) {
      const b = bits[p] as number;
      if (b >= 32) continue;
      const at = (g * k.length + (slots[p] as number)) * d;
      fakeQuantizeRow(kq.data.subarray(at, at + d), b);
      fakeQuantizeRow(vq.data.subarray(at, at + d), b);
    }
  }
  return { k: kq, v: vq };
}
