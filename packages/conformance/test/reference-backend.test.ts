import { createReferenceBackend, definePattern } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allBackendCases, describeBackend, describePattern, EXACT_TOLERANCE, exclusionReason, FP32_TOLERANCE } from '../src/index.js';

// The kit run on core's own reference backend: exercises every case and proves the oracle agrees with itself.
describeBackend(() => createReferenceBackend(), { name: 'reference', tolerance: EXACT_TOLERANCE });

// A small pattern with a deliberately hand-written fast builder, to exercise describePattern.
const causalWindow = definePattern({
  name: 'kit-window',
  summary: 'A causal window, used to test the conformance kit itself.',
  paper: { title: 'Longformer: The Long-Document Transformer', year: 2020, url: 'https://arxiv.org/abs/2004.05150' },
  params: z.object({ window: z.number().int().min(1).default(5) }).strict(),
  build: ({ window }) => ({
    causal: true,
    maskMod: () => (_h, q, k) => k <= q && q - k < window,
  }),
});
describePattern(causalWindow, { paramSets: [{ window: 1 }, { window: 33 }] });

describe('the kit catches wrong backends', () => {
  it('a backend that drops the causal mask fails the dense causal case', async () => {
    const ref = createReferenceBackend();
    const broken = {
      ...ref,
      attend: (input: never, options: { causal?: boolean } = {}) => ref.attend(input, { ...options, causal: false }),
    };
    const c = allBackendCases().find((x) => x.name.includes('odd length 37'));
    await expect(c?.run(broken as never, FP32_TOLERANCE)).rejects.toThrow(/output\[\d+\]/);
  });

  it('a backend that counts union keys twice fails the union case', async () => {
    const ref = createReferenceBackend();
    const broken = {
      ...ref,
      // Runs blocks and columns separately and averages: wrong where they overlap.
      attend: async (input: never, options: { mask?: { blocks?: unknown; columns?: unknown } } = {}) => {
        const a = await ref.attend(input, { ...options, mask: { blocks: options.mask?.blocks } as never });
        return a;
      },
    };
    const c = allBackendCases().find((x) => x.name.includes('each key once'));
    await expect(c?.run(broken as never, FP32_TOLERANCE)).rejects.toThrow(/expected/);
  });

  it('a linear layer that drops the last input feature fails the linear cases', async () => {
    const ref = createReferenceBackend();
    const broken = {
      ...ref,
      prepareLinear: async (weights: Float32Array, shape: { outDim: number; inDim: number }) => {
        const cut = weights.slice();
        for (let o = 0; o < shape.outDim; o++) cut[o * shape.inDim + shape.inDim - 1] = 0;
        return ref.prepareLinear(cut, shape);
      },
    };
    const c = allBackendCases().find((x) => x.name.includes('linear: odd sizes'));
    await expect(c?.run(broken as never, FP32_TOLERANCE)).rejects.toThrow(/y\[\d+\] = .*expected/);
  });

  it('a KV store that forgets each append of one token fails the growth case', async () => {
    const ref = createReferenceBackend();
    const broken = {
      ...ref,
      createKvStore: async (shape: { kvHeads: number; dim: number }) => {
        const store = await ref.createKvStore(shape);
        let appended = 0;
        return {
          ...store,
          kvHeads: store.kvHeads,
          dim: store.dim,
          length: () => appended,
          append: async (k: { length: number }, v: never) => {
            appended += k.length;
            if (k.length > 1) await store.append(k as never, v);
          },
        };
      },
    };
    const c = allBackendCases().find((x) => x.name.includes('one token at a time'));
    await expect(c?.run(broken as never, FP32_TOLERANCE)).rejects.toThrow(/after 61 slots/);
  });

  it('filters need a reason and match by substring or regexp', () => {
    expect(exclusionReason('attend: x', { excludes: [{ match: /^attend/, reason: 'no' }] })).toBe('no');
    expect(exclusionReason('decode: x', { include: ['attend'] })).toBe('not included by this run');
    expect(() => exclusionReason('a', { excludes: [{ match: 'a', reason: '' }] })).toThrow(/written reason/);
  });
});
