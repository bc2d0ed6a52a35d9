// describeEstimator on a small correct estimator, and each estimator case catching the fault it is there for.
import { type Backend, defineEstimator, referenceBackend } from '@sparseland/core';
import { buildBlockMask, type Estimator } from '@sparseland/core/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeEstimator, type EstimatorCase, estimatorCases } from '../src/index.js';

/** Keeps the diagonal key block and the block before it, after asking the backend for pooled scores. */
const localBlocks = defineEstimator({
  name: 'local-blocks',
  summary: 'Keeps the diagonal key block and the one before it.',
  paper: { title: 'Longformer: The Long-Document Transformer', year: 2020, url: 'https://arxiv.org/abs/2004.05150' },
  params: z.object({ before: z.number().int().min(0).default(1) }).strict(),
  build:
    ({ before }) =>
    async (input, ctx) => {
      await ctx.backend.pooledScores(input, { blockQ: ctx.blockQ, blockK: ctx.blockK });
      ctx.cost.add(1, 'estimate');
      const { shape } = input;
      return {
        blocks: buildBlockMask(shape, ctx, { heads: 1 }, (_h, qb, full) => {
          const last = Math.min(shape.kvLength - 1, shape.qOffset + Math.min(shape.qLength, (qb + 1) * ctx.blockQ) - 1);
          const diagonal = Math.floor(last / ctx.blockK);
          for (let kb = Math.max(0, diagonal - before); kb <= diagonal; kb++) full.push(kb);
        }),
      };
    },
});

describeEstimator(localBlocks, { paramSets: [{ before: 0 }, { before: 3 }] });

function variant(name: string, run: (base: Estimator) => Estimator) {
  return defineEstimator({ ...localBlocks, name, build: (params) => run(localBlocks.build(params)) });
}

async function failing(cases: EstimatorCase[], match: RegExp, backend: Backend): Promise<string> {
  const messages: string[] = [];
  for (const c of cases) {
    try {
      await c.run(backend);
    } catch (error) {
      messages.push((error as Error).message);
    }
  }
  const hit = messages.find((m) => match.test(m));
  if (!hit) throw new Error(`no case failed with ${match}; failures: ${JSON.stringify(messages)}`);
  return hit;
}

describe('estimator cases catch faulty estimators', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await referenceBackend.create({});
  });
  afterAll(async () => backend.dispose());

  it('a key block entirely in the future of a causal call', async () => {
    const future = variant('future-block', () => async (input, ctx) => ({
      blocks: buildBlockMask(input.shape, ctx, { heads: 1 }, (_h, _qb, full) =>
        full.pushRange(0, Math.ceil(input.shape.kvLength / ctx.blockK)),
      ),
    }));
    await failing(estimatorCases(future), /entirely in the future/, backend);
  });

  it('a mask built with other block sizes than the recipe asked for', async () => {
    const wrong = variant('wrong-blocks', (base) => async (input, ctx) => base(input, { ...ctx, blockQ: ctx.blockQ * 2 }));
    await failing(estimatorCases(wrong), /blocks, the recipe asked for/, backend);
  });

  it('a mask that changes between two runs with the same seed', async () => {
    let calls = 0;
    // Every other call keeps nothing: what an estimator drawing from an unseeded generator looks like.
    const flaky = variant('flaky', (base) => async (input, ctx) => (calls++ % 2 === 1 ? {} : base(input, ctx)));
    await failing(estimatorCases(flaky), /same seed gave a different mask/, backend);
  });

  it('an estimator no better than chance on planted structure', async () => {
    // Keeps the key blocks farthest from the diagonal: the planted band and diagonal are mostly missed.
    const far = variant('far-blocks', () => async (input, ctx) => {
      ctx.cost.add(1, 'estimate');
      return {
        blocks: buildBlockMask(input.shape, ctx, { heads: 1 }, (_h, qb, full) => {
          const last = input.shape.qOffset + Math.min(input.shape.qLength, (qb + 1) * ctx.blockQ) - 1;
          const diagonal = Math.floor(Math.min(last, input.shape.kvLength - 1) / ctx.blockK);
          for (let kb = 2; kb <= Math.min(diagonal, 4); kb++) full.push(kb);
        }),
      };
    });
    await failing(estimatorCases(far), /does not beat a random mask/, backend);
  });

  it('parameters that leave the planted mask dense', async () => {
    const dense = variant('dense-blocks', () => async (input, ctx) => {
      ctx.cost.add(1, 'estimate');
      return {
        blocks: buildBlockMask(input.shape, ctx, { heads: 1 }, (_h, qb, full) => {
          const last = input.shape.qOffset + Math.min(input.shape.qLength, (qb + 1) * ctx.blockQ) - 1;
          full.pushRange(0, Math.floor(Math.min(last, input.shape.kvLength - 1) / ctx.blockK) + 1);
        }),
      };
    });
    const message = await failing(estimatorCases(dense), /needs a sparse mask/, backend);
    expect(message).toMatch(/plantedParams/);
  });
});
