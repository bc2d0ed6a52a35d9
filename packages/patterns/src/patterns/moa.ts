import { definePattern } from '@sparseland/core';
import { intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { interval } from '../engine/int-set.js';
import { termPattern } from '../engine/pattern-instance.js';
import { columnsTerm } from '../engine/terms/columns-term.js';
import { diagonalTerm } from '../engine/terms/diagonal-term.js';
import { PAPERS } from '../papers.js';

const perHead = z
  .union([z.number(), z.array(z.number()).min(1), z.array(z.array(z.number()).min(1)).min(1)])
  .describe('one value, one per head (cycled), or MoA profile rows [layer][head] (cycled)');

/** Picks the value of (layer, head) from a number, a per-head list or a per-layer, per-head table. */
function pick(value: number | number[] | number[][], layer: number, head: number): number {
  if (typeof value === 'number') return value;
  const first = value[0];
  if (Array.isArray(first)) {
    const row = (value as number[][])[layer % value.length] as number[];
    return row[head % row.length] as number;
  }
  return (value as number[])[head % value.length] as number;
}

/**
 * MoA's elastic per-head spans: head h of layer l attends causally to the last span = clamp(⌊α + β·N⌋, 1, N) keys
 * plus the first `sink` tokens. N is `length` (MoA: prompt + max new tokens) or, when absent, the call's kvLength.
 * α and β come from MoA's offline profile ({"alphas": [[layer][head]], "betas": ...}); the defaults are an
 * illustrative elastic set from the grid the paper searches (α ∈ {−1024, 0, 1024}, β ∈ {0.125 … 1}).
 */
export const moa = definePattern({
  name: 'moa',
  summary: 'MoA: per-head elastic causal spans α + β·N plus attention sinks, as profiled per layer and head.',
  paper: PAPERS.moa,
  // The span α + β·N is set per head by MoA's offline search (alpha, beta), not by one scalar.
  budget: 'none',
  params: z
    .object({
      alpha: perHead.default([1024, 0, -1024, 1024]),
      beta: perHead.default([0, 0.25, 0.5, 0.125]),
      sink: intParam(0, 64, 'first tokens every query sees (MoA keeps 64)'),
      length: z.number().int().min(1).optional().describe('N in α + β·N; default: the call’s kvLength'),
    })
    .strict(),
  build: ({ alpha, beta, sink, length }) =>
    termPattern('moa', true, (shape) => {
      const n = length ?? shape.kvLength;
      const layer = shape.layer ?? 0;
      const spans = Array.from({ length: shape.heads }, (_, h) =>
        Math.min(n, Math.max(1, Math.floor(pick(alpha, layer, h) + pick(beta, layer, h) * n))),
      );
      const distinct = [...new Set(spans)];
      const classIndex = spans.map((s) => distinct.indexOf(s));
      const sinks = columnsTerm(interval(0, sink - 1), true);
      return {
        maskMod: (h, q, k) => k <= q && (k < sink || q - k < (spans[h] as number)),
        layout: {
          classes: distinct.map((span) => [diagonalTerm(interval(0, span - 1)), sinks]),
          classOf: (h) => classIndex[h] as number,
        },
      };
    }),
});
