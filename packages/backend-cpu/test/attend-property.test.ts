import { FP32_TOLERANCE, firstMismatch } from '@sparseland/conformance/cases';
import {
  type AttendResult,
  ColumnMask,
  randomHeadTensor,
  referenceAttention,
  referenceDecode,
  type SparseMask,
  TokenSelection,
} from '@sparseland/core';
import { buildBlockMask, createRng } from '@sparseland/core/kit';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type CpuBackend, createCpuBackend } from '../src/index.js';

// Property: on any geometry (odd lengths and head dims, GQA, chunked queries, explicit qOffset) and any mask form
// (blocks of any size with full and partial blocks, columns with their own blockQ, their union), both
// implementations (and both WebAssembly builds) on 1 and 2 threads agree with the float64 reference.

const backends: CpuBackend[] = [];
afterAll(async () => {
  for (const b of backends) await b.dispose();
});

function expectClose(got: AttendResult, want: AttendResult): void {
  const tol = FP32_TOLERANCE;
  expect(firstMismatch(got.output.data, want.output.data, tol.atol, tol.rtol, 'output')).toBeUndefined();
  expect(firstMismatch(got.lse, want.lse, tol.lseAtol, 0, 'lse')).toBeUndefined();
}

const geometry = fc
  .record({
    group: fc.constantFrom(1, 2, 4),
    kvHeads: fc.constantFrom(1, 2),
    dim: fc.constantFrom(1, 3, 5, 8, 12, 33, 64),
    kvLength: fc.integer({ min: 1, max: 150 }),
    qFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    explicitOffset: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
    causal: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  })
  .map((g) => {
    const qLength = Math.max(1, Math.round(g.qFraction * g.kvLength));
    // A causal call's rows need their own keys (qOffset + qLength <= kvLength); non-causal ones may pass the end.
    const explicitOffset =
      g.explicitOffset === undefined || !g.causal ? g.explicitOffset : Math.min(g.explicitOffset, g.kvLength - qLength);
    return { ...g, qLength, explicitOffset };
  });

const maskSpec = fc.record({
  kind: fc.constantFrom('none', 'blocks', 'columns', 'union'),
  blockQ: fc.integer({ min: 1, max: 80 }),
  blockK: fc.integer({ min: 1, max: 100 }),
  columnBlockQ: fc.integer({ min: 1, max: 70 }),
  broadcast: fc.boolean(),
});

function makeMask(
  spec: { kind: string; blockQ: number; blockK: number; columnBlockQ: number; broadcast: boolean },
  shape: { heads: number; qLength: number; kvLength: number; qOffset: number },
  seed: number,
): SparseMask | undefined {
  if (spec.kind === 'none') return undefined;
  const rng = createRng(seed);
  const heads = spec.broadcast ? 1 : shape.heads;
  const out: { blocks?: SparseMask['blocks']; columns?: SparseMask['columns'] } = {};
  if (spec.kind === 'blocks' || spec.kind === 'union') {
    const kBlocks = Math.ceil(shape.kvLength / spec.blockK);
    const stripes = (h: number, q: number, k: number) => (3 * q + k + h) % 4 !== 0;
    out.blocks = buildBlockMask(
      shape,
      { blockQ: spec.blockQ, blockK: spec.blockK },
      { heads, maskMod: stripes },
      (_h, _qb, full, partial) => {
        for (let kb = 0; kb < kBlocks; kb++) {
          const r = rng.next();
          if (r < 0.35) full.push(kb);
          else if (r < 0.6) partial.push(kb);
        }
      },
    );
  }
  if (spec.kind === 'columns' || spec.kind === 'union') {
    out.columns = ColumnMask.build(shape, spec.columnBlockQ, { heads }, (_h, _qb, cols) => {
      for (let k = 0; k < shape.kvLength; k++) if (rng.next() < 0.2) cols.push(k);
    });
  }
  return out;
}

for (const [label, impl, relaxedSimd] of [
  ['ts', 'ts', false],
  ['wasm simd128', 'wasm', false],
  ['wasm relaxed', 'wasm', true],
] as const) {
  describe(`attend (${label}) matches the reference on random geometry and masks`, () => {
    for (const threads of [1, 2]) {
      it(`${threads} thread${threads > 1 ? 's' : ''}`, async () => {
        const backend = await createCpuBackend({ impl, relaxedSimd, threads, minParallelWork: 0 });
        backends.push(backend);
        await fc.assert(
          fc.asyncProperty(geometry, maskSpec, async (g, spec) => {
            const heads = g.kvHeads * g.group;
            const q = randomHeadTensor({ heads, length: g.qLength, dim: g.dim, seed: g.seed, scale: 1.5 });
            const k = randomHeadTensor({ heads: g.kvHeads, length: g.kvLength, dim: g.dim, seed: g.seed + 1 });
            const v = randomHeadTensor({ heads: g.kvHeads, length: g.kvLength, dim: g.dim, seed: g.seed + 2 });
            const input = g.explicitOffset === undefined ? { q, k, v } : { q, k, v, qOffset: g.explicitOffset };
            const qOffset = g.explicitOffset ?? g.kvLength - g.qLength;
            const mask = makeMask(spec, { heads, qLength: g.qLength, kvLength: g.kvLength, qOffset }, g.seed + 3);
            const options = { mask, causal: g.causal };
            expectClose(await backend.attend(input, options), referenceAttention(input, options));
          }),
          { numRuns: 40, seed: 20261128 + threads },
        );
      });
    }
  });
}

describe('decode with a ScoreMod over stacked GQA heads (rows of several heads share one task)', () => {
  for (const [label, impl, relaxedSimd] of [
    ['ts', 'ts', false],
    ['wasm simd128', 'wasm', false],
    ['wasm relaxed', 'wasm', true],
  ] as const) {
    it(label, async () => {
      const backend = await createCpuBackend({ impl, relaxedSimd, threads: 2, minParallelWork: 0 });
      backends.push(backend);
      const q = randomHeadTensor({ heads: 8, length: 3, dim: 16, seed: 5 });
      const k = randomHeadTensor({ heads: 2, length: 90, dim: 16, seed: 6 });
      const v = randomHeadTensor({ heads: 2, length: 90, dim: 16, seed: 7 });
      const selection = TokenSelection.fromLists([Array.from({ length: 90 }, (_, s) => s).filter((s) => s % 3 !== 1), [0, 5, 88, 89]], 90);
      const scoreMod = (s: number, h: number, qPos: number, kPos: number) => s - 0.05 * (h + 1) * (qPos - kPos);
      for (const sel of [undefined, selection]) {
        const options = { selection: sel, scoreMod };
        expectClose(await backend.decode({ q, k, v }, options), referenceDecode({ q, k, v }, options));
      }
    });
  }
});
