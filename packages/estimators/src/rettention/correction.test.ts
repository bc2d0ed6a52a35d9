// The `rettention` option every estimator takes: attention() applies the correction the estimator returns.
import { createCpuBackend } from '@sparseland/backend-cpu';
import { plantedInputs } from '@sparseland/conformance';
import {
  attention,
  type Backend,
  createRegistry,
  isSparselandError,
  randomHeadTensor,
  type SparseMask,
  sparseMaskToDense,
} from '@sparseland/core';
import { isEstimateResult, resolveAttentionShape } from '@sparseland/core/kit';
import { loadFixtureModel } from '@sparseland/eval';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reference } from '../../test/helpers.js';
import { estimators } from '../all.js';
import { rettentionCorrection } from './correction.js';
import { rettentionAttention } from './rettention-attention.js';

const registry = createRegistry({ plugins: [estimators] });

interface Input {
  q: ReturnType<typeof randomHeadTensor>;
  k: ReturnType<typeof randomHeadTensor>;
  v: ReturnType<typeof randomHeadTensor>;
}

/**
 * Re-ttention written out in float64 from its definition: sparse and dense softmax sums per row from the kept-key
 * membership, the probe (last row of each block of blockQ rows) giving the dropped mass D, r = S / (S + D).
 */
function handRettention(input: Input, mask: SparseMask, blockQ: number, causal: boolean, residual: boolean) {
  const shape = resolveAttentionShape(input);
  const { heads, kvHeads, qLength, kvLength, qOffset, dim } = shape;
  const kept = sparseMaskToDense(mask, shape, { causal });
  const scale = 1 / Math.sqrt(dim);
  const output = new Float64Array(heads * qLength * dim);
  const lse = new Float64Array(heads * qLength);
  // Per row: sum of exp(logit − 40) over kept keys and over every visible key, and the matching weighted values.
  const sums = (h: number, i: number, all: boolean) => {
    const g = Math.floor(h / (heads / kvHeads));
    let s = 0;
    const o = new Float64Array(dim);
    for (let j = 0; j < kvLength; j++) {
      if (causal && j > qOffset + i) continue;
      if (!all && !kept[(h * qLength + i) * kvLength + j]) continue;
      let dot = 0;
      for (let c = 0; c < dim; c++)
        dot += (input.q.data[(h * qLength + i) * dim + c] as number) * (input.k.data[(g * kvLength + j) * dim + c] as number);
      const e = Math.exp(dot * scale - 40);
      s += e;
      for (let c = 0; c < dim; c++) o[c] = (o[c] as number) + e * (input.v.data[(g * kvLength + j) * dim + c] as number);
    }
    return { s, o };
  };
  for (let h = 0; h < heads; h++) {
    for (let b = 0; b * blockQ < qLength; b++) {
      const p = Math.min(qLength, (b + 1) * blockQ) - 1;
      const probeDense = sums(h, p, true);
      const probeSparse = sums(h, p, false);
      const dropped = probeDense.s - probeSparse.s;
      for (let i = b * blockQ; i <= p; i++) {
        const row = sums(h, i, false);
        const r = row.s / (row.s + dropped);
        for (let c = 0; c < dim; c++) {
          const sparse = row.s > 0 ? (row.o[c] as number) / row.s : 0;
          const droppedOut = dropped > 0 ? ((probeDense.o[c] as number) - (probeSparse.o[c] as number)) / dropped : 0;
          output[(h * qLength + i) * dim + c] = r * sparse + (residual ? (1 - r) * droppedOut : 0);
        }
        lse[h * qLength + i] = Math.log(row.s + dropped) + 40;
      }
    }
  }
  return { output, lse };
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)) / (1 + Math.abs(want[i] as number)));
  expect(worst).toBeLessThan(tol);
}

/** Odd shapes with GQA: chunked queries (qOffset > 0), a non-causal call, a query length not a multiple of blockQ. */
const SHAPES = [
  { heads: 6, kvHeads: 2, qLength: 37, kvLength: 45, dim: 12, blockQ: 8, blockK: 8, causal: true },
  { heads: 4, kvHeads: 1, qLength: 29, kvLength: 29, dim: 8, blockQ: 5, blockK: 4, causal: false },
];

function inputOf(s: (typeof SHAPES)[number], seed: number): Input {
  return {
    q: randomHeadTensor({ heads: s.heads, length: s.qLength, dim: s.dim, seed, scale: 1.6 }),
    k: randomHeadTensor({ heads: s.kvHeads, length: s.kvLength, dim: s.dim, seed: seed + 1, scale: 1.6 }),
    v: randomHeadTensor({ heads: s.kvHeads, length: s.kvLength, dim: s.dim, seed: seed + 2 }),
  };
}

describe('the rettention option', () => {
  let cpu: Backend;
  beforeAll(async () => {
    cpu = await createCpuBackend({ threads: 2, minParallelWork: 0 });
  });
  afterAll(async () => cpu.dispose());

  it.each(SHAPES.flatMap((s) => [false, true].map((residual) => [s, residual] as const)))(
    'through attention() equals the float64 hand computation (%o, residual %s)',
    async (s, residual) => {
      const input = inputOf(s, 3);
      const recipe = {
        blockQ: s.blockQ,
        blockK: s.blockK,
        default: { method: 'block-topk', params: { topK: 2, rettention: { residual } } },
      };
      const result = await attention(input, { recipe, registry, causal: s.causal });
      const want = handRettention(input, result.mask as SparseMask, s.blockQ, s.causal, residual);
      expectClose(result.output.data, want.output, 1e-5);
      expectClose(result.lse, want.lse, 1e-5);
      // The option changes the output: the plain sparse call differs.
      const plain = await attention(input, {
        recipe: { ...recipe, default: { method: 'block-topk', params: { topK: 2 } } },
        registry,
        causal: s.causal,
      });
      expect(plain.output.data.some((x, i) => Math.abs(x - (result.output.data[i] as number)) > 1e-3)).toBe(true);
    },
  );

  it('counts the probe as estimation FLOPs: 4·d per (head, probe row, dropped visible key)', async () => {
    const s = SHAPES[0] as (typeof SHAPES)[number];
    const input = inputOf(s, 5);
    const params = { topK: 2 };
    const recipe = (p: Record<string, unknown>) => ({ blockQ: s.blockQ, blockK: s.blockK, default: { method: 'block-topk', params: p } });
    const plain = await attention(input, { recipe: recipe(params), registry });
    const corrected = await attention(input, { recipe: recipe({ ...params, rettention: true }), registry });
    const shape = resolveAttentionShape(input);
    const kept = sparseMaskToDense(corrected.mask as SparseMask, shape, { causal: true });
    let dropped = 0;
    for (let h = 0; h < s.heads; h++) {
      for (let b = 0; b * s.blockQ < s.qLength; b++) {
        const p = Math.min(s.qLength, (b + 1) * s.blockQ) - 1;
        for (let j = 0; j <= shape.qOffset + p; j++) if (!kept[(h * s.qLength + p) * s.kvLength + j]) dropped++;
      }
    }
    expect(dropped).toBeGreaterThan(0);
    expect(corrected.stats.flops.estimate - plain.stats.flops.estimate).toBe(4 * s.dim * dropped);
    expect(corrected.stats.flops.attend).toBe(plain.stats.flops.attend);
    expect(corrected.stats.density).toBe(plain.stats.density);
  });

  it('off (the default, or false) changes nothing: the estimator returns its bare mask and attention() its output', async () => {
    const s = SHAPES[0] as (typeof SHAPES)[number];
    const input = inputOf(s, 7);
    const shape = resolveAttentionShape(input);
    for (const plugin of estimators) {
      const estimate = plugin.build(plugin.parseParams({ rettention: false }));
      const out = await estimate(
        { q: input.q, k: input.k, shape, causal: true },
        { backend: reference, cost: { add() {}, total: 0, byLabel: {} }, seed: 0, layer: 0, blockQ: 8, blockK: 8 },
      );
      expect(isEstimateResult(out), plugin.name).toBe(false);
    }
    const recipe = (params: Record<string, unknown>) => ({
      blockQ: 8,
      blockK: 8,
      default: { method: 'moba', params: { chunkSize: 8, topK: 2, ...params } },
    });
    const a = await attention(input, { recipe: recipe({}), registry, backend: cpu });
    const b = await attention(input, { recipe: recipe({ rettention: false }), registry, backend: cpu });
    expect(Array.from(b.output.data)).toEqual(Array.from(a.output.data));
    expect(b.stats.flops.estimate).toBe(a.stats.flops.estimate);
  });

  it.each(estimators.map((e) => [e.name] as const))(
    '%s: on, attention() gives rettentionAttention’s output for the same mask (cpu backend, GQA)',
    async (name) => {
      const input = plantedInputs({ qHeads: 4, kvHeads: 2, qLength: 96, kvLength: 96, dim: 16 }, 9);
      const small: Record<string, Record<string, unknown>> = {
        'vertical-slash': { vertical: 30, slash: 50, localDiagonals: 4, sinkColumns: 2, lastQ: 8 },
        'block-sparse': { topK: 2 },
        flexprefill: { lastQ: 8, gamma: 0.6 },
        'block-topk': { topK: 2 },
        moba: { chunkSize: 16, topK: 2 },
        biformer: { regions: 12, topK: 3 },
        hip: { maskK: 8, sinkTokens: 2, windowTokens: 8 },
        hyperattention: { minSeqLen: 16, blockSize: 8, sampleSize: 4, lshNumProjs: 3 },
        routing: { windowSize: 8, localWindow: 4, iterations: 2 },
        'reformer-lsh': { chunkLength: 8 },
        anchor: { initTokens: 2, localTokens: 4, threshold: 2 },
        sea: { width: 12, topK: 2, features: 8 },
        'spark-topk': { k: 12 },
        'double-sparsity': { heavyConst: 12, groupFactor: 4 },
        zipvl: { threshold: 0.6, lastQ: 8 },
      };
      const params = small[name] ?? {};
      const recipe = (extra: Record<string, unknown>) => ({
        blockQ: 16,
        blockK: 8,
        default: { method: name, params: { ...params, ...extra } },
      });
      for (const residual of [false, true]) {
        const viaOption = await attention(input, { recipe: recipe({ rettention: { residual } }), registry, backend: cpu });
        const viaWrapper = await rettentionAttention(input, { recipe: recipe({}), registry, backend: cpu, residual });
        expect(Array.from(viaOption.output.data)).toEqual(Array.from(viaWrapper.output.data));
        expect(Array.from(viaOption.lse)).toEqual(Array.from(viaWrapper.lse));
        expect(viaOption.stats.flops.estimate).toBe(viaWrapper.stats.flops.estimate);
      }
    },
  );

  it('in a per-head recipe only the heads whose method turns it on are corrected', async () => {
    const s = SHAPES[0] as (typeof SHAPES)[number];
    const input = inputOf(s, 11);
    const plainMethod = { method: 'block-topk', params: { topK: 2 } };
    const onMethod = { method: 'block-topk', params: { topK: 2, rettention: true } };
    const mixed = await attention(input, {
      recipe: { blockQ: 8, blockK: 8, default: plainMethod, layers: { 0: { heads: { 2: onMethod, 5: onMethod } } } },
      registry,
    });
    const plain = await attention(input, { recipe: { blockQ: 8, blockK: 8, default: plainMethod }, registry });
    const all = await attention(input, { recipe: { blockQ: 8, blockK: 8, default: onMethod }, registry });
    const rowValues = s.qLength * s.dim;
    for (let h = 0; h < s.heads; h++) {
      const want = h === 2 || h === 5 ? all : plain;
      expect(Array.from(mixed.output.data.subarray(h * rowValues, (h + 1) * rowValues))).toEqual(
        Array.from(want.output.data.subarray(h * rowValues, (h + 1) * rowValues)),
      );
      expect(Array.from(mixed.lse.subarray(h * s.qLength, (h + 1) * s.qLength))).toEqual(
        Array.from(want.lse.subarray(h * s.qLength, (h + 1) * s.qLength)),
      );
    }
    expect(mixed.stats.flops.estimate).toBeGreaterThan(plain.stats.flops.estimate);
  });

  it('works inside a model session: every layer’s output is the corrected one, and the logits change', async () => {
    const { model, tokenizer } = await loadFixtureModel('tinybooks-2k');
    const tokens = Array.from(
      tokenizer.encode(
        'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. However little known the feelings',
      ),
    );
    const recipe = (rettention: boolean) => ({
      blockQ: 16,
      blockK: 16,
      default: { method: 'block-topk', params: { topK: 3, rettention } },
    });
    const layers: { q: Input['q']; k: Input['k']; v: Input['v']; output: Float32Array }[] = [];
    const estimates: number[] = [];
    const session = model.createSession({
      recipe: recipe(true),
      registry,
      onLayer: (c) => layers.push({ q: c.q, k: c.k, v: c.v, output: c.output.data }),
      onAttention: (e) => estimates.push(e.stats.flops.estimate),
    });
    const logits = await session.prefill(tokens);
    const plainEstimates: number[] = [];
    const plain = await model
      .createSession({ recipe: recipe(false), registry, onAttention: (e) => plainEstimates.push(e.stats.flops.estimate) })
      .prefill(tokens);
    expect(layers.length).toBe(4);
    for (const [l, c] of layers.entries()) {
      const want = await rettentionAttention({ q: c.q, k: c.k, v: c.v }, { recipe: recipe(false), registry, layer: l });
      expectClose(c.output, want.output.data, 1e-5);
      expect(estimates[l]).toBe(want.stats.flops.estimate);
      expect(estimates[l]).toBeGreaterThan(plainEstimates[l] as number);
    }
    expect(logits.some((x, i) => Math.abs(x - (plain[i] as number)) > 1e-4)).toBe(true);
    await session.dispose();
  });

  it('rejects bad values with E_PARAMS saying what is expected, and a second correction in rettentionAttention', async () => {
    for (const bad of ['yes', 1, { residual: 'no' }, { other: true }]) {
      let error: unknown;
      try {
        estimators[0]?.parseParams({ rettention: bad });
      } catch (e) {
        error = e;
      }
      expect(isSparselandError(error) && error.code === 'E_PARAMS').toBe(true);
      expect(String((error as Error).message)).toMatch(
        /params\.rettention: (expected false, true or \{ residual\?: boolean \}|Unrecognized key)/,
      );
    }
    expect(() => rettentionCorrection({ blockQ: 0 })).toThrow(/blockQ must be an integer >= 1/);
    expect(() => rettentionCorrection({ blockQ: 4, residual: 'yes' as unknown as boolean })).toThrow(/residual must be a boolean/);
    const input = inputOf(SHAPES[0] as (typeof SHAPES)[number], 13);
    await expect(
      rettentionAttention(input, {
        recipe: { blockQ: 8, blockK: 8, default: { method: 'block-topk', params: { rettention: true } } },
        registry,
      }),
    ).rejects.toThrow(/already corrects its output/);
  });
});
