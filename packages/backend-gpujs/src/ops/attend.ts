import type { AttendOptions, AttendResult, AttentionInput } from '@sparseland/core';
import { resolveAttendCall, resultInto } from '@sparseland/core/kit';
import { densePlan } from '../plan/dense-plan.js';
import { maskPlan } from '../plan/mask-plan.js';
import type { GpuContext } from './context.js';
import { runPlan } from './run-plan.js';

/** Backend.attend: dense or any SparseMask, causal, GQA, qOffset, scoreMod (host-side, see runPlan). */
export async function attend(ctx: GpuContext, input: AttentionInput, options: AttendOptions = {}): Promise<AttendResult> {
  const { shape, causal, scale, mask, scoreMod, out } = resolveAttendCall(input, options);
  const plan = mask ? maskPlan(shape, mask, causal) : densePlan(shape, causal);
  return resultInto(out, await runPlan(ctx, plan, { q: input.q, k: input.k, v: input.v, shape, causal, scale, scoreMod }));
}
