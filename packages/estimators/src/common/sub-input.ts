import { slicePositions } from '@sparseland/core';
import type { EstimatorInput } from '@sparseland/core/kit';

/** The same call restricted to query rows [start, end): q is sliced, positions stay absolute. */
export function subQueries(input: EstimatorInput, start: number, end: number): EstimatorInput {
  const q = slicePositions(input.q, start, end);
  return {
    q,
    k: input.k,
    causal: input.causal,
    shape: { ...input.shape, qLength: end - start, qOffset: input.shape.qOffset + start },
  };
}
