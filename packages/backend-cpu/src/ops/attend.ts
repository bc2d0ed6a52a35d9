import { type AttendOptions, type AttendResult, type AttentionInput, SparselandError, toSparseMask } from '@sparseland/core';
import { resolveAttentionShape, resolveScale } from '@sparseland/core/kit';
import type { Executor } from '../executor.js';
import { planAttend } from '../plan/attend-plan.js';
import { copyRows, packedFloats, packKeys } from '../plan/pack.js';
import { paddedDim } from '../scratch-layout.js';
import { runAttendJob } from './attend-job.js';

/** Backend.attend: validates once, plans the mask into tasks and segments, runs them. */
export async function attend(exec: Executor, input: AttentionInput, options: AttendOptions = {}): Promise<AttendResult> {
  const shape = resolveAttentionShape(input, { checkFinite: false });
  const causal = options.causal ?? true;
  const scale = resolveScale(options.scale, shape.dim);
  if (options.scoreMod !== undefined && typeof options.scoreMod !== 'function') {
    throw new SparselandError('E_PARAMS', `scoreMod must be a function (score, h, qPos, kPos) => number, got ${typeof options.scoreMod}`);
  }
  const mask = options.mask === undefined ? undefined : toSparseMask(options.mask, shape);
  const plan = planAttend(shape, mask, causal);
  const dp = paddedDim(shape.dim);
  const kvLength = shape.kvLength;
  return runAttendJob(exec, input.q, {
    shape,
    scale,
    plan,
    scoreMod: options.scoreMod,
    sources: {
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
