import { createHeadTensor, createReferenceBackend, defineBackend, referenceBackend } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  allBackendCases,
  describeBackend,
  EXACT_TOLERANCE,
  exclusionReason,
  FP32_TOLERANCE,
  metadataCase,
  runCases,
} from '../src/index.js';

// The kit run on core's own reference backend: exercises every case and proves the oracle agrees with itself.
describeBackend(referenceBackend, { tolerance: EXACT_TOLERANCE });

// The same plugin under two named configurations, the way a backend with several builds runs the kit; the
// exclusion shows up as a skipped test that carries its reason.
describeBackend(referenceBackend, {
  backends: [
    { name: 'reference (first instance)', create: () => createReferenceBackend() },
    { name: 'reference (second instance)', create: () => referenceBackend.create() },
  ],
  cases: allBackendCases().filter((c) => /^attend: (dense|custom scale)|^decode: full cache/.test(c.name)),
  filters: { excludes: [{ match: 'custom scale', reason: 'shows how an exclusion with its reason reads' }] },
});

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

  it('a backend that forgets the columns of a union fails the union case', async () => {
    const ref = createReferenceBackend();
    const broken = {
      ...ref,
      attend: async (input: never, options: { mask?: { blocks?: unknown; columns?: unknown } } = {}) =>
        ref.attend(input, { ...options, mask: { blocks: options.mask?.blocks } as never }),
    };
    const c = allBackendCases().find((x) => x.name.includes('each key once'));
    await expect(c?.run(broken as never, FP32_TOLERANCE)).rejects.toThrow(/expected/);
  });

  it('a backend that ignores options.out, or leaves its empty rows unwritten, fails the out case', async () => {
    const ref = createReferenceBackend();
    const c = allBackendCases().find((x) => x.name.includes('into options.out'));
    const ignoresOut = {
      ...ref,
      attend: (input: never, options: { out?: unknown } = {}) => ref.attend(input, { ...options, out: undefined }),
    };
    await expect(c?.run(ignoresOut as never, FP32_TOLERANCE)).rejects.toThrow(/not options.out/);
    // Writes only the rows that keep a key (copies the reference's nonzero rows): NaN from before stays in the rest.
    const skipsEmptyRows = {
      ...ref,
      attend: async (input: never, options: { out?: { data: Float32Array; dim: number } } = {}) => {
        const got = await ref.attend(input, { ...options, out: undefined });
        const out = options.out as { data: Float32Array; dim: number };
        const d = out.dim;
        got.lse.forEach((l, r) => {
          if (l !== Number.NEGATIVE_INFINITY) out.data.set(got.output.data.subarray(r * d, (r + 1) * d), r * d);
        });
        return { output: out, lse: got.lse };
      },
    };
    await expect(c?.run(skipsEmptyRows as never, FP32_TOLERANCE)).rejects.toThrow(/output\[\d+\]/);
  });

  it('a backend whose own tensors start dirty, or that keeps a result per tensor, fails the own-tensors case', async () => {
    const ref = createReferenceBackend();
    const c = allBackendCases().find((x) => x.name.includes('own tensors') && x.name.endsWith('dim 64'));
    const allocate = (fill: number) => async (heads: number, length: number, dim: number) => ({
      tensor: createHeadTensor(heads, length, dim, new Float32Array(heads * length * dim).fill(fill)),
      release() {},
    });
    await expect(c?.run({ ...ref, allocateTensor: allocate(1) } as never, FP32_TOLERANCE)).rejects.toThrow(/not zero-filled/);
    // Remembers the output of the first call on a q tensor and returns it again (a cache keyed on the tensor).
    const seen = new Map<unknown, Awaited<ReturnType<typeof ref.attend>>>();
    const caching = {
      ...ref,
      allocateTensor: allocate(0),
      attend: async (input: { q: unknown }, options: never) => {
        const hit = seen.get(input.q);
        if (hit) return hit;
        const got = await ref.attend(input as never, options);
        seen.set(input.q, {
          output: createHeadTensor(got.output.heads, got.output.length, got.output.dim, got.output.data.slice()),
          lse: got.lse,
        });
        return got;
      },
    };
    await expect(c?.run(caching as never, FP32_TOLERANCE)).rejects.toThrow(/call 1|call 2/);
  });

  it('a backend that ignores into.columnMax, or writes past the list, fails the into case', async () => {
    const ref = createReferenceBackend();
    const c = allBackendCases().find((x) => x.name.includes('into options.into.columnMax'));
    const ignoresInto = {
      ...ref,
      scores: (input: never, options: { into?: unknown } = {}) => ref.scores(input, { ...options, into: undefined }),
    };
    await expect(c?.run(ignoresInto as never, FP32_TOLERANCE)).rejects.toThrow(/not the first/);
    // Fills the whole array (-Infinity past the list) before writing the maxima.
    const writesPast = {
      ...ref,
      scores: (input: never, options: { into?: { columnMax?: Float32Array } } = {}) => {
        options.into?.columnMax?.fill(Number.NEGATIVE_INFINITY);
        return ref.scores(input, options as never);
      },
    };
    await expect(c?.run(writesPast as never, FP32_TOLERANCE)).rejects.toThrow(/past the list/);
  });

  it('probe sums one diagonal off fail the lastQueriesSums cases', async () => {
    const ref = createReferenceBackend();
    const broken = {
      ...ref,
      lastQueriesSums: async (input: never, options: never) => {
        const sums = await ref.lastQueriesSums(input, options);
        const slash = new Float64Array(sums.slash.length);
        slash.set(sums.slash.subarray(1));
        return { ...sums, slash };
      },
    };
    const c = allBackendCases().find((x) => x.name.startsWith('lastQueriesSums: last 16,'));
    await expect(c?.run(broken as never, FP32_TOLERANCE)).rejects.toThrow(/slash\[\d+\]/);
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

  it('a packed decode that skips the packed blocks fails the KIVI case', async () => {
    const ref = createReferenceBackend();
    const broken = {
      ...ref,
      decodePacked: (input: { q: never; cache: { heads: { blocks: unknown[] }[] } }, options: never) =>
        ref.decodePacked(
          { q: input.q, cache: { ...input.cache, heads: input.cache.heads.map((h) => ({ ...h, blocks: [] })) } } as never,
          options,
        ),
    };
    const c = allBackendCases().find((x) => x.name.includes('decodePacked: KIVI int4'));
    await expect(c?.run(broken as never, FP32_TOLERANCE)).rejects.toThrow(/output\[\d+\]/);
  });

  it('a packed decode that reads any causal as true fails the rejection case', async () => {
    const ref = createReferenceBackend();
    const broken = {
      ...ref,
      decodePacked: (input: never, options: { causal?: unknown } = {}) =>
        ref.decodePacked(input, { ...options, causal: options.causal !== false }),
    };
    const c = allBackendCases().find((x) => x.name === 'decodePacked: rejects a non-boolean causal');
    await expect(c?.run(broken as never, FP32_TOLERANCE)).rejects.toThrow(/the call was accepted; expected E_PARAMS/);
  });

  it('filters need a reason and match by substring or regexp', () => {
    expect(exclusionReason('attend: x', { excludes: [{ match: /^attend/, reason: 'no' }] })).toBe('no');
    expect(exclusionReason('decode: x', { include: ['attend'] })).toBe('not included by this run');
    expect(() => exclusionReason('a', { excludes: [{ match: 'a', reason: '' }] })).toThrow(/written reason/);
  });
});

describe('the kit catches wrong scores', () => {
  it('a backend whose prepared input keeps stale copies fails the prepared-input case', async () => {
    const c = allBackendCases().find((x) => x.name.includes('prepared input'));
    // Keys copied when prepared and read even after release, when the caller has changed them.
    const ref = createReferenceBackend();
    const frozen = new WeakMap<object, object>();
    const staleKeys = {
      ...ref,
      prepareScoreInput: (input: { q: unknown; k: { data: Float32Array } }) => {
        const prepared = { ...input, release() {} };
        frozen.set(prepared, { ...input, k: { ...input.k, data: input.k.data.slice() } });
        return prepared;
      },
      scores: (input: object, options: never) => ref.scores((frozen.get(input) ?? input) as never, options),
    };
    await expect(c?.run(staleKeys as never, FP32_TOLERANCE)).rejects.toThrow(/after release, k changed/);
    // The query rows of the first call reused by the later ones.
    const firstRows = new WeakMap<object, unknown>();
    const staleRows = {
      ...ref,
      prepareScoreInput: (input: object) => ({ ...input, release() {} }),
      scores: (input: object, options: { rows?: unknown }) => {
        if (!('release' in input)) return ref.scores(input as never, options as never);
        if (!firstRows.has(input)) firstRows.set(input, options.rows);
        return ref.scores(input as never, { ...options, rows: firstRows.get(input) } as never);
      },
    };
    await expect(c?.run(staleRows as never, FP32_TOLERANCE)).rejects.toThrow(/other rows/);
  });

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

  it('a backend that does not validate its scores options fails the rejection cases', async () => {
    const ref = createReferenceBackend();
    // Drops the options it does not understand instead of refusing them: NaN scale and a bad top-k are accepted.
    const broken = { ...ref, scores: (input: never) => ref.scores(input, {}) };
    const cases = allBackendCases().filter((x) => x.name.startsWith('scores: rejects'));
    expect(cases.length).toBeGreaterThan(5);
    for (const c of cases) await expect(c.run(broken as never, FP32_TOLERANCE)).rejects.toThrow(/was accepted/);
  });
});

describe('the metadata case of a backend plugin', () => {
  const base = {
    name: 'kit-backend',
    summary: 'A backend plugin used to test the conformance kit itself.',
    params: z.object({}).strict(),
    priority: 1,
    isSupported: async () => true,
    create: async () => createReferenceBackend(),
  };

  it('passes without a paper (backends implement engineering, not a method)', async () => {
    await metadataCase(defineBackend(base), 'backend').run();
  });

  it('fails when isSupported() throws instead of answering false', async () => {
    const throwing = defineBackend({
      ...base,
      isSupported: async () => {
        throw new Error('no adapter');
      },
    });
    await expect(metadataCase(throwing, 'backend').run()).rejects.toThrow(/must answer false rather than throw/);
  });

  it('fails when the params schema accepts unknown options', async () => {
    await expect(metadataCase(defineBackend({ ...base, params: z.object({}) }), 'backend').run()).rejects.toThrow(/strict/);
  });

  it('fails when the plugin is of another kind', async () => {
    await expect(metadataCase(referenceBackend, 'estimator').run()).rejects.toThrow(/kind is "backend", expected "estimator"/);
  });
});

describe('runCases, the framework-free runner of browser pages', () => {
  it('reports each case as passed, failed with its message, or excluded with its reason', async () => {
    const backend = createReferenceBackend();
    const cases = allBackendCases().filter((c) => /^attend: (dense causal, odd length 37|custom scale|dense causal, 1 token)/.test(c.name));
    const broken = { ...backend, attend: () => Promise.reject(new Error('no attend here')) };
    const outcomes = await runCases(cases, (c) => c.run(broken as never, FP32_TOLERANCE), {
      excludes: [{ match: 'custom scale', reason: 'not in this check' }],
    });
    expect(outcomes.map((o) => [o.status, o.detail])).toEqual([
      ['fail', 'no attend here'],
      ['fail', 'no attend here'],
      ['excluded', 'not in this check'],
    ]);
    const passing = await runCases(cases, (c) => c.run(backend, EXACT_TOLERANCE));
    expect(passing.map((o) => o.status)).toEqual(['pass', 'pass', 'pass']);
  });
});
