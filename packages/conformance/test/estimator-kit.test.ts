// describeEstimator on small correct estimators, and each estimator case catching the fault it is there for.
import { type Backend, defineEstimator, referenceBackend } from '@sparseland/core';
import { buildBlockMask, type Estimator, type EstimatorContext, type EstimatorInput } from '@sparseland/core/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  DECISION_TOLERANCE,
  describeEstimator,
  estimatorAgreementCases,
  estimatorCases,
  type OnBackendCase,
  REFERENCE_BACKEND,
} from '../src/index.js';
import { alteredReference, fp32Scores } from './altered-backends.js';

/** Keeps the diagonal key blocks (all those holding a row's own key) and `before` blocks before them. */
const localBlocks = defineEstimator({
  name: 'local-blocks',
  summary: 'Keeps the diagonal key block and the one before it.',
  paper: { title: 'Longformer: The Long-Document Transformer', year: 2020, url: 'https://arxiv.org/abs/2004.05150' },
  params: z.object({ before: z.number().int().min(0).default(1) }).strict(),
  budget: { param: 'before', denser: 'higher' },
  build:
    ({ before }) =>
    async (input, ctx) => {
      await ctx.backend.pooledScores(input, { blockQ: ctx.blockQ, blockK: ctx.blockK });
      ctx.cost.add(1, 'estimate');
      const { shape } = input;
      return {
        blocks: buildBlockMask(shape, ctx, { heads: 1 }, (_h, qb, full) => {
          const { first, last } = ownBlocks(shape, ctx, qb);
          for (let kb = Math.max(0, first - before); kb <= last; kb++) full.push(kb);
        }),
      };
    },
});

describeEstimator(localBlocks, { paramSets: [{ before: 0 }, { before: 3 }] });

/** Key blocks holding the own keys of query block qb's rows (several when blockQ > blockK). */
function ownBlocks(shape: EstimatorInput['shape'], ctx: EstimatorContext, qb: number): { first: number; last: number } {
  const pos = (i: number) => Math.min(shape.kvLength - 1, shape.qOffset + i);
  return {
    first: Math.floor(pos(qb * ctx.blockQ) / ctx.blockK),
    last: Math.floor(pos(Math.min(shape.qLength, (qb + 1) * ctx.blockQ) - 1) / ctx.blockK),
  };
}

/**
 * Picks key blocks from the backend's pooled scores: the diagonal block, then either the `topK` best-scoring
 * visible blocks (a fixed count per row) or every visible block scoring above `threshold` (a count that follows the
 * scores). Its decisions depend on the backend, which is what the agreement case looks at.
 */
function pickBlocks(input: EstimatorInput, ctx: EstimatorContext, pick: (scores: number[]) => number[]) {
  const { shape } = input;
  return ctx.backend.pooledScores(input, { blockQ: ctx.blockQ, blockK: ctx.blockK, causal: input.causal }).then((scores) => {
    ctx.cost.add(2 * shape.heads * scores.qBlocks * scores.kBlocks * shape.dim, 'estimate');
    return {
      blocks: buildBlockMask(shape, ctx, {}, (h, qb, full) => {
        const own = ownBlocks(shape, ctx, qb);
        const row = Array.from(
          scores.data.subarray((h * scores.qBlocks + qb) * scores.kBlocks, (h * scores.qBlocks + qb) * scores.kBlocks + own.first),
        );
        const diagonal = Array.from({ length: own.last - own.first + 1 }, (_, i) => own.first + i);
        full.pushAll([...pick(row), ...diagonal].sort((a, b) => a - b));
      }),
    };
  });
}

const topBlocks = defineEstimator({
  name: 'top-blocks',
  summary: 'Keeps the diagonal key block and the best-scoring earlier ones.',
  paper: { title: 'MoBA: Mixture of Block Attention for Long-Context LLMs', year: 2025, url: 'https://arxiv.org/abs/2502.13189' },
  params: z.object({ topK: z.number().int().min(0).default(2), threshold: z.number().optional() }).strict(),
  budget: { param: 'topK', denser: 'higher' },
  build:
    ({ topK, threshold }): Estimator =>
    (input, ctx) =>
      pickBlocks(input, ctx, (row) => {
        const order = row.map((s, kb) => ({ s, kb }));
        if (threshold !== undefined) return order.filter((x) => x.s > threshold).map((x) => x.kb);
        return order
          .sort((a, b) => b.s - a.s || a.kb - b.kb)
          .slice(0, topK)
          .map((x) => x.kb);
      }),
});

// Runs on the reference and on a backend whose pooled scores are float32, like a real fp32 backend's.
describeEstimator(topBlocks, { paramSets: [{ topK: 0 }, { threshold: 0.5 }], backends: [REFERENCE_BACKEND, fp32Scores] });

function variant(name: string, run: (base: Estimator) => Estimator) {
  return defineEstimator({ ...localBlocks, name, build: (params) => run(localBlocks.build(params)) });
}

async function failing(cases: OnBackendCase[], match: RegExp, backend: Backend): Promise<string> {
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

  it("rows left without their own key (the last row's diagonal block only, with blockQ > blockK)", async () => {
    const lastRowBlock = variant('last-row-block', () => async (input, ctx) => ({
      blocks: buildBlockMask(input.shape, ctx, { heads: 1 }, (_h, qb, full) => {
        const last = Math.min(input.shape.kvLength - 1, input.shape.qOffset + Math.min(input.shape.qLength, (qb + 1) * ctx.blockQ) - 1);
        full.push(Math.floor(last / ctx.blockK));
      }),
    }));
    await failing(estimatorCases(lastRowBlock), /does not keep its own key/, backend);
    const nothing = variant('keeps-nothing', (base) => async (input, ctx) => (input.causal ? base(input, ctx) : {}));
    await failing(estimatorCases(nothing), /keeps no key/, backend);
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

  it('a built estimator that keeps state from one call to the next', async () => {
    // Fresh builds agree with each other; a built function's later calls keep only the diagonal blocks (what a
    // setting or buffer left over from an earlier call looks like).
    const diagonal = localBlocks.build({ before: 0 });
    const stale = variant('stale', (base) => {
      let calls = 0;
      return (input, ctx) => (calls++ === 0 ? base(input, ctx) : diagonal(input, ctx));
    });
    await failing(estimatorCases(stale), /other than a fresh build's/, backend);
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

describe('the agreement case catches a backend or an estimator that decides differently off the reference', () => {
  const runOn = async (named: { create(): Backend | Promise<Backend> }, run: (b: Backend) => Promise<void>) => {
    const b = await named.create();
    try {
      await run(b);
    } finally {
      await b.dispose();
    }
  };
  const [topAgreement] = estimatorAgreementCases(topBlocks, { plantedParams: { topK: 2 } });
  const [thresholdAgreement] = estimatorAgreementCases(topBlocks, { plantedParams: { threshold: 0.5 } });

  it('passes on a backend whose pooled scores are float32', async () => {
    await runOn(fp32Scores, (b) => topAgreement!.run(b));
    await runOn(fp32Scores, (b) => thresholdAgreement!.run(b));
  });

  it('a backend whose pooled scores come out negated: another choice of blocks, less recall', async () => {
    const negated = alteredReference('negated scores', (reference) => ({
      async pooledScores(input, options) {
        const scores = await reference.pooledScores(input, options);
        return { ...scores, data: scores.data.map((x) => -x) };
      },
    }));
    await expect(runOn(negated, (b) => topAgreement!.run(b))).rejects.toThrow(/recall [\d.]+, [\d.]+ on the reference/);
  });

  it('a backend whose pooled scores are scaled: more blocks over the threshold, another density', async () => {
    const scaled = alteredReference('scaled scores', (reference) => ({
      async pooledScores(input, options) {
        const scores = await reference.pooledScores(input, options);
        return { ...scores, data: scores.data.map((x) => 4 * x) };
      },
    }));
    await expect(runOn(scaled, (b) => thresholdAgreement!.run(b))).rejects.toThrow(/density [\d.]+, [\d.]+ on the reference/);
  });

  it('an estimator that counts its FLOPs differently on another backend', async () => {
    const counting = defineEstimator({
      ...topBlocks,
      name: 'backend-counting',
      build: (params) => async (input, ctx) => {
        if (ctx.backend.name !== 'reference') ctx.cost.add(1, 'estimate');
        return topBlocks.build(params)(input, ctx);
      },
    });
    const [agreement] = estimatorAgreementCases(counting, { plantedParams: { topK: 2 } });
    await expect(runOn(fp32Scores, (b) => agreement!.run(b))).rejects.toThrow(/estimation FLOPs/);
    // A stated relative tolerance admits it.
    const [loose] = estimatorAgreementCases(counting, { plantedParams: { topK: 2 }, tolerance: { flopsRel: 1e-3 } });
    await runOn(fp32Scores, (b) => loose!.run(b));
  });

  it('the tolerance is stated in one place and named in the case', () => {
    expect(DECISION_TOLERANCE).toEqual({ density: 0.02, recall: 0.02, flopsRel: 0 });
    expect(topAgreement!.name).toContain('density ±0.02, recall ±0.02, the same FLOPs');
  });
});
