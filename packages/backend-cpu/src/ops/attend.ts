import type { AttendOptions, AttendResult, AttentionInput } from '@sparseland/core';
import { resolveAttendCall } from '@sparseland/core/kit';
import type { Executor } from '../executor.js';
import { planAttend } from '../plan/attend-plan.js';
import { copyRows, packedFloats, packKeys } from '../plan/pack.js';
import { paddedDim } from '../scratch-layout.js';
import { runAttendJob } from './attend-job.js';
import { inPlaceIndex } from './backend-tensors.js';

/** Backend.attend: validates once, plans the mask into tasks and segments, runs them. */
export async function attend(exec: Executor, input: AttentionInput, options: AttendOptions = {}): Promise<AttendResult> {
  const { shape, causal, scale, mask, scoreMod, out } = resolveAttendCall(input, options);
  const plan = planAttend(shape, mask, causal);
  const dp = paddedDim(shape.dim);
  const kvLength = shape.kvLength;
  // V from the backend's own memory is read where it is.
  const vAt = inPlaceIndex(exec, input.v);
  return runAttendJob(exec, input.q, {
    shape,
    scale,
    plan,
    scoreMod,
    out,
    sources: {
      kFloats: () => packedFloats(kvLength, dp),
      vFloats: () => kvLength * dp,
      vResident: (g) => (vAt >= 0 ? vAt + g * kvLength * dp : -1),
      positions: () => 0,
      write: (g, f32, _i32, k, v) => {
        packKeys(input.k, g, f32, k, dp);
        if (vAt < 0) copyRows(input.v, g, f32, v, dp);
      },
    },
  });
}
