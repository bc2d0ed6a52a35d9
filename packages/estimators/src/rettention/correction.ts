import { SparselandError } from '@sparseland/core';
import { describeValue, type OutputCorrection } from '@sparseland/core/kit';
import { z } from 'zod';
import { rettentionReshape } from './reshape.js';

/**
 * The `rettention` parameter every estimator of this package takes: `false` (the default) leaves the estimator's
 * output alone; `true` or `{ residual }` makes it return its mask with Re-ttention's correction.
 */
export const rettentionParam = z
  .union(
    [
      z.boolean(),
      z
        .object({
          residual: z
            .boolean()
            .default(false)
            .describe("also add the dropped keys' output measured on the block's probe row, weighted 1 − r (default false)"),
        })
        .strict(),
    ],
    { error: 'expected false, true or { residual?: boolean }' },
  )
  .default(false)
  .describe(
    "Re-ttention: rescale each row by the softmax mass the mask keeps, estimated per query block by a dense probe of the block's last row (false = off; true or { residual } = on)",
  );

export type RettentionParam = z.output<typeof rettentionParam>;

/** What the option asks for: undefined when off. */
export function resolveRettention(value: RettentionParam): { residual: boolean } | undefined {
  if (value === false) return undefined;
  return { residual: value === true ? false : value.residual };
}

/**
 * Re-ttention as an output correction (core's `OutputCorrection`): `attention()` calls it after the sparse call with
 * the mask that ran. Each block of `blockQ` query rows is rescaled by the probe of its last row (see
 * `rettentionReshape`); the probe runs on the call's backend and its FLOPs go to `ctx.cost` as estimation work.
 * Estimators return `{ mask, correction: rettentionCorrection({ blockQ: ctx.blockQ }) }`; the built-in ones do when
 * their `rettention` parameter is on. The probe applies no score mod (a correction does not see the call's).
 */
export function rettentionCorrection(options: { readonly blockQ: number; readonly residual?: boolean }): OutputCorrection {
  const blockQ = options?.blockQ;
  if (typeof blockQ !== 'number' || !Number.isInteger(blockQ) || blockQ < 1) {
    throw new SparselandError('E_PARAMS', `rettentionCorrection: blockQ must be an integer >= 1, got ${describeValue(blockQ)}`);
  }
  const residual = options.residual ?? false;
  if (typeof residual !== 'boolean') {
    throw new SparselandError('E_PARAMS', `rettentionCorrection: residual must be a boolean, got ${describeValue(residual)}`);
  }
  return async (result, call, ctx) => {
    const reshaped = await rettentionReshape(result, call, { blockQ, residual }, ctx.backend);
    ctx.cost.add(reshaped.probeFlops, 'estimate');
    return { output: reshaped.output, lse: reshaped.lse };
  };
}
