import { definePattern } from '@sparseland/core';
import type { PatternInstance } from '@sparseland/core/kit';
import { z } from 'zod';
import { expectMaskShape } from '../engine/pattern-instance.js';
import { PAPERS } from '../papers.js';

/**
 * T5's relative-position bucket of the pair (query q, key k): exact buckets for small distances, logarithmic ones up
 * to maxDistance. Bidirectional buckets put keys after the query in the upper half.
 */
export function t5Bucket(q: number, k: number, buckets: number, maxDistance: number, bidirectional: boolean): number {
  let n = q - k;
  let offset = 0;
  let size = buckets;
  if (bidirectional) {
    size = Math.floor(buckets / 2);
    if (n < 0) offset = size;
    n = Math.abs(n);
  } else n = Math.max(n, 0);
  const exact = Math.floor(size / 2);
  if (n < exact) return offset + n;
  const large = exact + Math.floor((Math.log(n / exact) / Math.log(maxDistance / exact)) * (size - exact));
  return offset + Math.min(large, size - 1);
}

/**
 * A T5-style relative-position bias: adds bias[bucket(q − k)] to every logit (static ScoreMod, keeps every pair).
 * The biases are learned in T5; pass your checkpoint's table (per bucket, or per head and bucket). Without one, a
 * stand-in table −ln(1 + bucket within its direction) gives a monotone distance decay.
 */
export const relativeBias = definePattern({
  name: 'relative-bias',
  summary: 'T5 relative-position bias: a learned bias per log-spaced distance bucket added to every logit (score modifier).',
  paper: PAPERS.t5,
  budget: 'none',
  params: z
    .object({
      buckets: z.number().int().min(2).default(32).describe('number of buckets (T5: 32)'),
      maxDistance: z.number().int().min(2).default(128).describe('distance of the last logarithmic bucket (T5: 128)'),
      bidirectional: z.boolean().default(true).describe('separate buckets for keys after the query (T5 encoder: true)'),
      bias: z
        .union([z.array(z.number()).min(1), z.array(z.array(z.number()).min(1)).min(1)])
        .optional()
        .describe('bias per bucket, or [head][bucket] (heads cycle); default −ln(1 + bucket within its direction)'),
    })
    .strict()
    .superRefine((p, ctx) => {
      const tables = p.bias === undefined ? [] : Array.isArray(p.bias[0]) ? (p.bias as number[][]) : [p.bias as number[]];
      tables.forEach((t, i) => {
        if (t.length !== p.buckets) {
          ctx.addIssue({ code: 'custom', path: ['bias', i], message: `expected one bias per bucket (${p.buckets}), got ${t.length}` });
        }
      });
    }),
  build: ({ buckets, maxDistance, bidirectional, bias }): PatternInstance => ({
    causal: false,
    scoreMod(shape) {
      expectMaskShape(shape, 'relative-bias.scoreMod');
      const half = bidirectional ? Math.floor(buckets / 2) : buckets;
      const table = (h: number): readonly number[] => {
        if (!bias) return Array.from({ length: buckets }, (_, b) => -Math.log1p(b % half));
        const first = bias[0];
        return Array.isArray(first) ? ((bias as number[][])[h % bias.length] as number[]) : (bias as number[]);
      };
      const tables = Array.from({ length: shape.heads }, (_, h) => table(h));
      return (score, h, q, k) => score + ((tables[h] as readonly number[])[t5Bucket(q, k, buckets, maxDistance, bidirectional)] as number);
    },
  }),
});
