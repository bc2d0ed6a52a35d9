import { createReferenceBackend, SparselandError } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { testRegistry } from '../test/helpers.js';
import { endToEnd } from './end-to-end.js';
import { evaluateMethods } from './evaluate.js';
import { findMethod } from './find-method.js';
import { WORKLOAD_LIMITS } from './limits.js';
import { searchRecipe } from './search/search-recipe.js';
import { speedVsLength } from './speed.js';
import { sweep } from './sweep.js';
import { mqarWorkload } from './workloads/mqar.js';
import { realTraceWorkload } from './workloads/real-trace.js';
import { syntheticWorkload } from './workloads/synthetic.js';

// Every size a user gives eval has a stated limit (WORKLOAD_LIMITS, core's LIMITS), refused with a coded error
// before anything is generated, traced or timed; every seed is a 32-bit unsigned integer (core's expectSeed).

/** The SparselandError a call throws (sync or async). */
async function refusal(run: () => unknown): Promise<SparselandError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof SparselandError) return error;
    throw error;
  }
  throw new Error('expected a SparselandError');
}

describe('workload sizes', () => {
  it('refuses synthetic and MQAR lengths past WORKLOAD_LIMITS.length by name, before generating anything', async () => {
    const limit = WORKLOAD_LIMITS.length;
    for (const make of [() => syntheticWorkload({ n: 2_000_000, seed: 0 }), () => mqarWorkload({ n: 999_999_999, seed: 0 })]) {
      const error = await refusal(make);
      expect(error.code).toBe('E_PARAMS');
      expect(error.message).toContain(`n must be an integer in [16, ${limit}], got`);
    }
    expect(syntheticWorkload({ n: limit, seed: 0 }).name).toBe('synthetic:128k');
  });

  it('refuses synthetic heads, dims and sample counts past the limits', async () => {
    expect((await refusal(() => syntheticWorkload({ n: 64, heads: 5000, kvHeads: 1, seed: 0 }))).message).toMatch(
      /heads must be an integer in \[1, 1024\]/,
    );
    expect((await refusal(() => syntheticWorkload({ n: 64, dim: 5000, seed: 0 }))).message).toMatch(
      /dim must be an integer in \[8, 1024\]/,
    );
    expect((await refusal(() => syntheticWorkload({ n: 131072, heads: 1024, kvHeads: 1, seed: 0 }))).code).toBe('E_SHAPE');
    expect((await refusal(() => mqarWorkload({ n: 64, samples: 1e9, seed: 0 }))).message).toMatch(
      /samples must be an integer in \[1, 4096\]/,
    );
  });

  it('names the real problem of an MQAR vocabulary, and grows the default one for long inputs', async () => {
    const error = await refusal(() => mqarWorkload({ n: 4096, vocab: 100, seed: 0 }));
    expect(error.message).toMatch(/vocab 100 is too small for 512 key-value pairs: keys must be distinct .* at least 2·pairs \+ 2 = 1026/);
    // 8,192 pairs by default at n = 64K need 16,386 tokens: Zoology's 8,192 is raised instead of refused.
    expect(mqarWorkload({ n: 65536, seed: 0 }).description).toContain('vocab 16386');
    expect(mqarWorkload({ n: 4096, seed: 0 }).description).toContain('vocab 8192');
  });

  it('refuses real-model passages past the limit before tracing, and end-to-end runs alike', async () => {
    const backend = createReferenceBackend();
    const trace = await refusal(() => realTraceWorkload({ model: 'stories260K', positions: 200_000, backend }));
    expect(trace.message).toContain(`positions must be an integer in [1, ${WORKLOAD_LIMITS.length}]`);
    const run = await refusal(() =>
      endToEnd({
        model: 'stories260K',
        positions: 200_000,
        methods: [{ label: 'w', recipe: { method: 'window' } }],
        registry: testRegistry,
        backend,
      }),
    );
    expect(run.message).toContain(`positions must be an integer in [4, ${WORKLOAD_LIMITS.length}]`);
  });

  it('checks every length of a speed run before timing any', async () => {
    let timed = 0;
    const error = await refusal(() =>
      speedVsLength({
        methods: [{ label: 'w', recipe: { method: 'window' } }],
        lengths: [64, 2_000_000],
        registry: testRegistry,
        backend: {
          ...createReferenceBackend(),
          attend: async () => {
            timed++;
            throw new Error('timed');
          },
        },
      }),
    );
    expect(error.message).toContain('lengths[1] must be an integer in [16, 131072], got 2000000');
    expect(timed).toBe(0);
  });
});

describe('seeds', () => {
  const workload = syntheticWorkload({ n: 64, heads: 2, kvHeads: 1, dim: 16, seed: 0, structure: { needles: 0, band: 8 } });
  const registry = testRegistry;
  const backend = createReferenceBackend();

  it.each([Number.NaN, 1.5, -1, 2 ** 32])('refuses seed %s everywhere a user passes one', async (seed) => {
    const calls: [string, () => unknown][] = [
      ['syntheticWorkload', () => syntheticWorkload({ n: 64, seed })],
      ['mqarWorkload', () => mqarWorkload({ n: 64, seed })],
      [
        'evaluateMethods',
        () => evaluateMethods({ methods: [{ label: 'w', recipe: { method: 'window' } }], workloads: [workload], registry, backend, seed }),
      ],
      ['searchRecipe', () => searchRecipe({ traces: workload, candidates: [{ method: 'window' }], budget: 0.5, registry, backend, seed })],
      ['sweep', () => sweep({ method: 'window', values: [4], workloads: [workload], registry, backend, seed })],
      [
        'speedVsLength',
        () => speedVsLength({ methods: [{ label: 'w', recipe: { method: 'window' } }], lengths: [64], registry, backend, seed }),
      ],
    ];
    for (const [name, call] of calls) {
      const error = await refusal(call);
      expect(error.code, name).toBe('E_PARAMS');
      expect(error.message, name).toMatch(/seed must be an integer in \[0, 4294967295\]/);
    }
  });

  it('accepts the largest seed, 2^32 - 1', () => {
    expect(syntheticWorkload({ n: 256, seed: 2 ** 32 - 1 }).size).toBe(1);
  });
});

describe('long names', () => {
  it('cuts a 1 MB method name short in findMethod and searchRecipe messages', async () => {
    const long = 'x'.repeat(1 << 20);
    const workload = syntheticWorkload({ n: 64, heads: 2, kvHeads: 1, dim: 16, seed: 0, structure: { needles: 0, band: 8 } });
    for (const run of [
      () => findMethod(testRegistry, long),
      () => searchRecipe({ traces: workload, candidates: [{ method: long }], budget: 0.5, registry: testRegistry }),
    ]) {
      const error = await refusal(run);
      expect(error.code).toBe('E_UNKNOWN_PLUGIN');
      expect(error.message.length).toBeLessThan(500);
    }
  });
});
