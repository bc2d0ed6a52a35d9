// withRettention: any estimator, built-in or third-party, gets Re-ttention's `rettention` option.
import { attention, ColumnMask, createRegistry, defineEstimator, definePattern, randomHeadTensor } from '@sparseland/core';
import { isEstimateResult, resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { reference } from '../../test/helpers.js';
import { rettentionCorrection } from './correction.js';
import { rettentionAttention } from './rettention-attention.js';
import { withRettention } from './with-rettention.js';

/** A third-party estimator, defined with core's defineEstimator only: each query block keeps its `recent` latest keys. */
const recentKeys = defineEstimator({
  name: 'acme/recent-keys',
  summary: 'Keeps the latest `recent` keys of every query block.',
  paper: { title: 'A test method', year: 2025, url: 'https://example.org' },
  budget: { param: 'recent', denser: 'higher' },
  params: z.object({ recent: z.number().int().min(1).default(8) }).strict(),
  build:
    ({ recent }) =>
    async (input, ctx) => ({
      columns: ColumnMask.build(input.shape, ctx.blockQ, {}, (_h, qb, out) => {
        const last = Math.min(input.shape.kvLength - 1, input.shape.qOffset + Math.min(input.shape.qLength, (qb + 1) * ctx.blockQ) - 1);
        for (let k = Math.max(0, last - recent + 1); k <= last; k++) out.push(k);
      }),
    }),
});

const wrapped = withRettention(recentKeys);
const registry = createRegistry({ plugins: [wrapped] });
const bareRegistry = createRegistry({ plugins: [recentKeys] });
const input = {
  q: randomHeadTensor({ heads: 4, length: 40, dim: 16, seed: 1, scale: 2 }),
  k: randomHeadTensor({ heads: 2, length: 40, dim: 16, seed: 2, scale: 2 }),
  v: randomHeadTensor({ heads: 2, length: 40, dim: 16, seed: 3 }),
};
const recipe = (params: Record<string, unknown>) => ({ blockQ: 8, blockK: 8, default: { method: 'acme/recent-keys', params } });

describe('withRettention', () => {
  it('keeps the plugin (name, summary, paper, budget) and adds the rettention option to its strict params', () => {
    expect(wrapped).toMatchObject({ kind: 'estimator', name: recentKeys.name, summary: recentKeys.summary, paper: recentKeys.paper });
    expect(wrapped.budget).toEqual({ param: 'recent', denser: 'higher' });
    expect(Object.isFrozen(wrapped)).toBe(true);
    expect(wrapped.parseParams({})).toEqual({ recent: 8, rettention: false });
    expect(wrapped.parseParams({ recent: 4, rettention: { residual: true } })).toEqual({ recent: 4, rettention: { residual: true } });
    expect(() => wrapped.parseParams({ recnt: 4 })).toThrow(/E_PARAMS.*recnt/);
    expect(() => wrapped.parseParams({ rettention: 'on' })).toThrow(/E_PARAMS.*params\.rettention/);
  });

  it('off, the estimator is the method itself: its bare mask and the same output', async () => {
    const shape = resolveAttentionShape(input);
    const estimate = wrapped.build(wrapped.parseParams({ recent: 12 }));
    const ctx = { backend: reference, cost: { add() {}, total: 0, byLabel: {} }, seed: 0, layer: 0, blockQ: 8, blockK: 8 };
    expect(isEstimateResult(await estimate({ q: input.q, k: input.k, shape, causal: true }, ctx))).toBe(false);
    const bare = await attention(input, { recipe: recipe({ recent: 12 }), registry: bareRegistry });
    const off = await attention(input, { recipe: recipe({ recent: 12 }), registry });
    expect(Array.from(off.output.data)).toEqual(Array.from(bare.output.data));
    expect(off.stats.flops.estimate).toBe(bare.stats.flops.estimate);
  });

  it('on, a third-party estimator returns the correction: attention() gives rettentionAttention’s output for its mask', async () => {
    for (const residual of [false, true]) {
      const shape = resolveAttentionShape(input);
      const estimate = wrapped.build(wrapped.parseParams({ recent: 12, rettention: { residual } }));
      const ctx = { backend: reference, cost: { add() {}, total: 0, byLabel: {} }, seed: 0, layer: 0, blockQ: 8, blockK: 8 };
      const result = await estimate({ q: input.q, k: input.k, shape, causal: true }, ctx);
      expect(isEstimateResult(result) && typeof result.correction).toBe('function');
      const corrected = await attention(input, { recipe: recipe({ recent: 12, rettention: { residual } }), registry });
      const want = await rettentionAttention(input, { recipe: recipe({ recent: 12 }), registry: bareRegistry, residual });
      expect(Array.from(corrected.output.data)).toEqual(Array.from(want.output.data));
      expect(Array.from(corrected.lse)).toEqual(Array.from(want.lse));
      expect(corrected.stats.flops.estimate).toBe(want.stats.flops.estimate);
      const plain = await attention(input, { recipe: recipe({ recent: 12 }), registry });
      expect(plain.output.data.some((x, i) => Math.abs(x - (corrected.output.data[i] as number)) > 1e-3)).toBe(true);
    }
  });

  it('rejects what it cannot wrap, and an estimator that already corrects its output when the option is on', async () => {
    const pattern = definePattern({ name: 'p', summary: 's', params: z.object({}), build: () => ({ causal: true }) });
    expect(() => withRettention(pattern as never)).toThrow(/E_PARAMS.*withRettention: expected an estimator/);
    const build = () => async () => ({});
    const unionParams = defineEstimator({ name: 'u', summary: 's', params: z.union([z.object({}), z.null()]), build });
    expect(() => withRettention(unionParams as never)).toThrow(/estimator "u" must have a z\.object/);
    expect(() => withRettention(wrapped as never)).toThrow(/estimator "acme\/recent-keys" already has a `rettention` parameter/);
    const corrects = withRettention(
      defineEstimator({
        name: 'corrects',
        summary: 's',
        params: z.object({}),
        build: () => async (_input, ctx) => ({ mask: {}, correction: rettentionCorrection({ blockQ: ctx.blockQ }) }),
      }),
    );
    const twice = attention(input, {
      recipe: { blockQ: 8, blockK: 8, default: { method: 'corrects', params: { rettention: true } } },
      registry: createRegistry({ plugins: [corrects] }),
    });
    await expect(twice).rejects.toThrow(/E_PARAMS.*estimator "corrects" already corrects its output/);
  });
});
