import { type HeadTensor, slicePositions } from '@sparseland/core';
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

/** Query heads [firstHead, firstHead + shape.heads) of a call, with the kv heads they read. */
export interface HeadLane {
  readonly input: EstimatorInput;
  readonly firstHead: number;
}

/**
 * The call cut into two halves of its heads that share no kv head when there are two or more (else the query heads
 * are halved over the one kv head); one lane when there is one query head. q and k are views, not copies.
 */
export function headHalves(input: EstimatorInput): HeadLane[] {
  const { heads, kvHeads } = input.shape;
  if (heads < 2) return [{ input, firstHead: 0 }];
  const group = heads / kvHeads;
  const qSplit = kvHeads >= 2 ? Math.floor(kvHeads / 2) * group : Math.floor(heads / 2);
  const kvSplit = kvHeads >= 2 ? Math.floor(kvHeads / 2) : 0;
  const lane = (q0: number, q1: number, g0: number, g1: number): HeadLane => ({
    firstHead: q0,
    input: {
      q: headsView(input.q, q0, q1),
      k: headsView(input.k, g0, g1),
      causal: input.causal,
      shape: { ...input.shape, heads: q1 - q0, kvHeads: g1 - g0 },
    },
  });
  return kvHeads >= 2
    ? [lane(0, qSplit, 0, kvSplit), lane(qSplit, heads, kvSplit, kvHeads)]
    : [lane(0, qSplit, 0, 1), lane(qSplit, heads, 0, 1)];
}

/** Heads [start, end) of t as a view (subarray) of its data. */
export function headsView(t: HeadTensor, start: number, end: number): HeadTensor {
  const stride = t.length * t.dim;
  return { data: t.data.subarray(start * stride, end * stride), heads: end - start, length: t.length, dim: t.dim };
}
