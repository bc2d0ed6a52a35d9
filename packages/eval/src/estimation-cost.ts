import {
  type AttentionShape,
  attentionFlops,
  type Backend,
  type CompiledRecipe,
  countKeptPairs,
  densePairs,
  type HeadTensor,
} from '@sparseland/core';
import { createCostMeter } from '@sparseland/core/kit';

/** A timer's summary of repeated runs (the shape `@sparseland/bench-harness`'s `measure` returns). */
export interface Timing {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly runs: number;
}

export interface EstimationCostOptions {
  /** Q and K; V too for estimators that read the values (DMA). */
  readonly input: { readonly q: HeadTensor; readonly k: HeadTensor; readonly v?: HeadTensor };
  readonly shape: AttentionShape;
  readonly backend: Backend;
  /** Times `fn` over repeated runs: the benchmark's own timer, so every record of a suite is timed alike. */
  readonly measure: (fn: () => Promise<void>) => Promise<Timing>;
  /** Median time of dense causal attention on the same input and backend, in the same run. */
  readonly denseMs: number;
}

export interface EstimationCost extends Timing {
  /** Kept causal pairs of the built mask over all causal pairs. */
  readonly density: number;
  readonly fractionOfDense: number;
  /** What the estimator reported to its cost meter (the last run). */
  readonly estimateFlops: number;
  readonly estimateFlopsOfDense: number;
  /** "x% of dense time, y% of dense FLOPs". */
  readonly note: string;
}

/**
 * The estimation cost of one compiled recipe: its causal mask build (estimation and mask writing, seed 0, layer 0)
 * timed with the caller's timer on the caller's backend, against dense causal attention's time in the same run, with
 * the estimator's counted FLOPs and the mask's density. What the estimators' cost benchmarks record per method.
 */
export async function estimationCost(recipe: CompiledRecipe, options: EstimationCostOptions): Promise<EstimationCost> {
  const { input, shape, backend, denseMs } = options;
  let estimateFlops = 0;
  let mask: Awaited<ReturnType<CompiledRecipe['build']>>['mask'] = 'dense';
  const timing = await options.measure(async () => {
    const cost = createCostMeter();
    const built = await recipe.build({ input: { ...input, shape, causal: true }, backend, cost, seed: 0, layer: 0 });
    estimateFlops = cost.total;
    mask = built.mask;
  });
  const counted = countKeptPairs(mask === 'dense' ? undefined : mask, shape, { causal: true });
  const denseFlops = attentionFlops(densePairs(shape, true), shape.dim);
  const fractionOfDense = timing.medianMs / denseMs;
  const estimateFlopsOfDense = estimateFlops / denseFlops;
  return {
    ...timing,
    density: counted.kept / counted.total,
    fractionOfDense,
    estimateFlops,
    estimateFlopsOfDense,
    note: `${(100 * fractionOfDense).toFixed(1)}% of dense time, ${(100 * estimateFlopsOfDense).toFixed(2)}% of dense FLOPs`,
  };
}
