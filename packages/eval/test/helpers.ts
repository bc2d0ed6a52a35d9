import { ColumnMask, createRegistry, defineEstimator, definePattern } from '@sparseland/core';
import { referenceRowProbabilities, resolveAttentionShape } from '@sparseland/core/kit';
import { z } from 'zod';

/** Test plugins: small, exact definitions so eval's measurements can be checked by hand. */
export const windowPattern = definePattern({
  name: 'window',
  summary: 'Keeps the last `window` keys of every query.',
  params: z.object({ window: z.number().int().min(1).default(64) }).strict(),
  budget: { param: 'window', denser: 'higher' },
  build: ({ window }) => ({ causal: true, maskMod: () => (_h, q, k) => k <= q && q - k < window }),
});

export const sinkWindowPattern = definePattern({
  name: 'sink-window',
  summary: 'Keeps the first `sink` keys and the last `local` keys.',
  params: z.object({ sink: z.number().int().min(0).default(4), local: z.number().int().min(1).default(64) }).strict(),
  budget: { param: 'local', denser: 'higher' },
  build: ({ sink, local }) => ({ causal: true, maskMod: () => (_h, q, k) => k <= q && (k < sink || q - k < local) }),
});

/** Density falls as `stride` grows: a parameter whose budget runs the other way. */
export const stridePattern = definePattern({
  name: 'every-nth',
  summary: 'Keeps every `stride`-th key.',
  params: z.object({ stride: z.number().int().min(1).max(512).default(8) }).strict(),
  budget: { param: 'stride', denser: 'lower' },
  build: ({ stride }) => ({ causal: true, maskMod: () => (_h, _q, k) => k % stride === 0 }),
});

/** An oracle estimator: per query row (blockQ 1), the `topK` keys with the highest exact probability. */
export const exactTopK = defineEstimator({
  name: 'exact-top-k',
  summary: 'Keeps each row’s top-k keys by exact dense probability (a test oracle, not a method).',
  params: z.object({ topK: z.number().int().min(1).default(8) }).strict(),
  budget: { param: 'topK', denser: 'higher' },
  build:
    ({ topK }) =>
    async (input, ctx) => {
      const shape = resolveAttentionShape({ q: input.q, k: input.k, v: input.k }, { checkFinite: false });
      const probs = new Float64Array(shape.kvLength);
      ctx.cost.add(2 * shape.dim * shape.qLength * shape.kvLength * shape.heads, 'estimate');
      const columns = ColumnMask.build(input.shape, 1, {}, (h, i, out) => {
        referenceRowProbabilities(
          { q: input.q, k: input.k, v: input.k },
          shape,
          h,
          i,
          { causal: input.causal, scale: 1 / Math.sqrt(shape.dim) },
          probs,
        );
        const order = Array.from(probs.keys())
          .sort((a, b) => (probs[b] as number) - (probs[a] as number))
          .slice(0, topK)
          .sort((a, b) => a - b);
        for (const k of order) out.push(k);
      });
      return { columns };
    },
});

export const testRegistry = createRegistry({ plugins: [windowPattern, sinkWindowPattern, stridePattern, exactTopK] });
