import type { AttendResult, AttentionInput, DecodeOptions } from '@sparseland/core';
import { applySlotPrecision, resolveDecodeCall } from '@sparseland/core/kit';
import { densePlan } from '../plan/dense-plan.js';
import { selectionPlan } from '../plan/selection-plan.js';
import type { GpuContext } from './context.js';
import { runPlan } from './run-plan.js';

/**
 * Backend.decode: a few new queries over a cache, reading only the selected slots (gathered 64 at a time). Slots
 * stored below 32 bits are fake-quantised on the host first, as the reference does (O(selected slots · dim)).
 */
export async function decode(ctx: GpuContext, input: AttentionInput, options: DecodeOptions = {}): Promise<AttendResult> {
  const { shape, causal, scale, selection, scoreMod } = resolveDecodeCall(input, options);
  const plan = selection ? selectionPlan(shape, selection, causal) : densePlan(shape, causal);
  const cache = selection?.precision ? applySlotPrecision(input.k, input.v, selection) : { k: input.k, v: input.v };
  return runPlan(ctx, plan, { q: input.q, k: cache.k, v: cache.v, shape, causal, scale, scoreMod });
}
