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

  it('filters need a reason and match by substring or regexp', () => {
    expect(exclusionReason('attend: x', { excludes: [{ match: /^attend/, reason: 'no' }] })).toBe('no');
    expect(exclusionReason('decode: x', { include: ['attend'] })).toBe('not included by this run');
    expect(() => exclusionReason('a', { excludes: [{ match: 'a', reason: '' }] })).toThrow(/written reason/);
  });
});

describe('the kit catches wrong scores', () => {
  it('a backend whose top-k breaks ties toward the higher key fails the tie case', async () => {
    const ref = createReferenceBackend();
    const broken = {
      ...ref,
      scores: async (input: never, options: never) => {
        const r = await ref.scores(input, options);
        const top = r.topK;
        if (!top) return r;
        // Reverse the order of equal values: ties to the higher key.
        const indices = top.indices.slice();
        for (let row = 0; row < indices.length / top.k; row++) {
          for (let t = 0; t + 1 < top.k; t++) {
            const at = row * top.k + t;
            if (top.values[at] === top.values[at + 1] && (indices[at + 1] as number) >= 0) {
              const x = indices[at] as number;
              indices[at] = indices[at + 1] as number;
              indices[at + 1] = x;
              t++;
            }
          }
        }
        return { ...r, topK: { ...top, indices } };
      },
    };
    const c = allBackendCases().find((x) => x.name.includes('ties go to the lower key'));
    await expect(c?.run(broken as never, FP32_TOLERANCE)).rejects.toThrow(/topK.indices/);
  });

  it('a backend that ignores causality in the moments fails', async () => {
    const ref = createReferenceBackend();
    const broken = { ...ref, scores: (input: never, options: { causal?: boolean }) => ref.scores(input, { ...options, causal: false }) };
    const c = allBackendCases().find((x) => x.name.includes('no visible key'));
    await expect(c?.run(broken as never, FP32_TOLERANCE)).rejects.toThrow(/scores|count/);
  });
});
