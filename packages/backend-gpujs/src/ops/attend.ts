import { type AttendOptions, type AttendResult, type AttentionInput, type SparseMask, toSparseMask } from '@sparseland/core';
import { resolveAttentionShape, resolveScale } from '@sparseland/core/kit';
import { densePlan } from '../plan/dense-plan.js';
import { maskPlan } from '../plan/mask-plan.js';
import type { GpuContext } from './context.js';
import { runPlan } from './run-plan.js';

/** Backend.attend: dense or any SparseMask, causal, GQA, qOffset, scoreMod (host-side, see runPlan). */
export async function attend(ctx: GpuContext, input: AttentionInput, options: AttendOptions = {}): Promise<AttendResult> {
  const shape = resolveAttentionShape(input, { checkFinite: false });
  const causal = options.causal ?? true;
  const mask: SparseMask | undefined = options.mask === undefined ? undefined : toSparseMask(options.mask, shape);
  const plan = mask ? maskPlan(shape, mask, causal) : densePlan(shape, causal);
  return runPlan(ctx, plan, {
    q: input.q,
    k: input.k,
    v: input.v,
    shape,
    causal,
    scale: resolveScale(options.scale, shape.dim),
    scoreMod: options.scoreMod,
  });
}
