import { defineEstimator, type EstimatorPlugin, SparselandError } from '@sparseland/core';
import { describeValue, isEstimateResult } from '@sparseland/core/kit';
import { z } from 'zod';
import { type RettentionParam, resolveRettention, rettentionCorrection, rettentionParam } from './correction.js';

/** The params schema of an estimator with Re-ttention's option added. */
export type WithRettentionParams<S extends z.ZodObject> = z.ZodObject<
  z.core.util.Extend<S['shape'], { rettention: typeof rettentionParam }>,
  S['_zod']['config']
>;

/**
 * Gives any estimator Re-ttention's `rettention` option (every built-in estimator is defined this way): the same
 * plugin (name, summary, paper, budget) with `rettention` added to its params. Off (the default), it is the method
 * itself; on (`true` or `{ residual }`), it returns `{ mask, correction }` with Re-ttention's correction over the
 * call's query blocks, which `attention()` applies after the sparse call. The estimator's params must be a
 * `z.object` without a `rettention` key; an estimator that already corrects its output is rejected when the option
 * is on (the output would be corrected twice).
 */
export function withRettention<S extends z.ZodObject>(plugin: EstimatorPlugin<S>): EstimatorPlugin<WithRettentionParams<S>> {
  if (typeof plugin !== 'object' || plugin === null || plugin.kind !== 'estimator') {
    throw new SparselandError('E_PARAMS', `withRettention: expected an estimator from defineEstimator, got ${describeValue(plugin)}`);
  }
  if (!(plugin.params instanceof z.ZodObject)) {
    throw new SparselandError('E_PARAMS', `withRettention: estimator "${plugin.name}" must have a z.object(...) params schema`);
  }
  if ('rettention' in plugin.params.shape) {
    throw new SparselandError('E_PARAMS', `withRettention: estimator "${plugin.name}" already has a \`rettention\` parameter`);
  }
  const { kind: _kind, parseParams: _parse, params, build, ...rest } = plugin;
  return defineEstimator({
    ...rest,
    params: params.extend({ rettention: rettentionParam }) as unknown as WithRettentionParams<S>,
    build: (parsed) => {
      const run = build(parsed as z.output<S>);
      const option = resolveRettention((parsed as { rettention: RettentionParam }).rettention);
      if (option === undefined) return run;
      return async (input, ctx) => {
        const estimated = await run(input, ctx);
        if (isEstimateResult(estimated) && estimated.correction !== undefined) {
          throw new SparselandError(
            'E_PARAMS',
            `estimator "${plugin.name}" already corrects its output; turn its \`rettention\` option off (it would correct the output twice)`,
          );
        }
        const mask = isEstimateResult(estimated) ? estimated.mask : estimated;
        return { mask, correction: rettentionCorrection({ blockQ: ctx.blockQ, ...option }) };
      };
    },
  });
}
