import { defineEstimator as defineCoreEstimator, type EstimatorPlugin, type PaperRef, type SparseMask } from '@sparseland/core';
import type { EstimatorContext, EstimatorInput } from '@sparseland/core/kit';
import type { z } from 'zod';
import { type RettentionParam, resolveRettention, rettentionCorrection, rettentionParam } from '../rettention/correction.js';

/** An estimator of this package: its own parameters and a build that returns a mask. */
export interface EstimatorDefinition<S extends z.ZodObject> {
  readonly name: string;
  readonly summary: string;
  readonly paper?: PaperRef | undefined;
  /** The method's own parameters (a strict object); `rettention` is added by `defineEstimator`. */
  readonly params: S;
  build(params: z.output<S>): (input: EstimatorInput, ctx: EstimatorContext) => Promise<SparseMask>;
}

/**
 * Every estimator of the package is defined through this: core's `defineEstimator` with the shared `rettention`
 * parameter added to the method's schema. Off (the default), the plugin is the method itself and returns its
 * SparseMask; on, it returns `{ mask, correction }` with Re-ttention's correction over the recipe's query blocks,
 * which `attention()` applies after the sparse call.
 */
export function defineEstimator<S extends z.ZodObject>(def: EstimatorDefinition<S>) {
  const params = def.params.extend({ rettention: rettentionParam });
  const plugin: EstimatorPlugin<typeof params> = defineCoreEstimator({
    name: def.name,
    summary: def.summary,
    paper: def.paper,
    params,
    build: (parsed) => {
      const run = def.build(parsed as z.output<S>);
      const option = resolveRettention((parsed as { rettention: RettentionParam }).rettention);
      if (option === undefined) return run;
      return async (input, ctx) => ({ mask: await run(input, ctx), correction: rettentionCorrection({ blockQ: ctx.blockQ, ...option }) });
    },
  });
  return plugin;
}
