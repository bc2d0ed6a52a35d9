import type { MaskShape, PatternPlugin } from '@sparseland/core';
import fc from 'fast-check';
import {
  aShape,
  bigbird,
  causal,
  combiner,
  dilatedWindow,
  fixed,
  full,
  grid,
  longformer,
  moa,
  neighborhood,
  powerAttention,
  radial,
  s2Attention,
  slidingWindow,
  sparseVdit,
  strided,
  triShape,
} from '../src/index.js';

/** Small random geometries: odd lengths, chunked queries (qOffset > 0), one-token decode, 1–4 heads, layers 0–3. */
export const shapeArb: fc.Arbitrary<MaskShape> = fc
  .record({
    heads: fc.integer({ min: 1, max: 4 }),
    qLength: fc.integer({ min: 1, max: 72 }),
    past: fc.integer({ min: 0, max: 40 }),
    layer: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ heads, qLength, past, layer }) => ({ heads, qLength, kvLength: qLength + past, qOffset: past, layer }));

/** Kernel block sizes, including ones that do not divide anything and ones larger than the sequence. */
export const sizesArb = fc.record({ blockQ: fc.integer({ min: 1, max: 24 }), blockK: fc.integer({ min: 1, max: 24 }) });

const int = (min: number, max: number) => fc.integer({ min, max });

/** Every mask pattern with an arbitrary of small parameter sets that exercise its corners. */
export const MASK_PATTERNS: readonly (readonly [PatternPlugin, fc.Arbitrary<Record<string, unknown>>])[] = [
  [full, fc.constant({})],
  [causal, fc.constant({})],
  [slidingWindow, fc.record({ window: int(1, 30), causal: fc.boolean() })],
  [dilatedWindow, fc.record({ window: int(1, 10), dilation: int(1, 5), causal: fc.boolean() })],
  [aShape, fc.record({ sink: int(0, 10), local: int(1, 20) })],
  [triShape, fc.record({ sink: int(0, 10), local: int(1, 20), last: int(0, 10) })],
  [strided, fc.record({ stride: int(1, 12), heads: fc.constantFrom('merged', 'alternating') })],
  [fixed, fc.record({ stride: int(2, 16), summary: int(1, 2), distinctHeads: fc.boolean() })],
  [longformer, fc.record({ window: int(2, 20), globalTokens: fc.array(int(0, 100), { maxLength: 3 }), causal: fc.boolean() })],
  [
    bigbird,
    fc.record({
      blockSize: int(1, 9),
      windowBlocks: fc.constantFrom(1, 3, 5),
      globalBlocks: int(0, 2),
      randomBlocks: int(0, 3),
      seed: int(0, 5),
    }),
  ],
  [
    neighborhood,
    fc.oneof(
      fc
        .record({ kernelSize: int(1, 9), dilation: int(1, 3), stride: int(1, 3), causal: fc.boolean() })
        .filter((p) => p.stride <= p.kernelSize),
      fc
        .record({
          grid: fc.tuple(fc.constant(0), int(1, 9)),
          kernelSize: fc.tuple(int(1, 5), int(1, 5)),
          dilation: fc.tuple(int(1, 2), int(1, 2)),
          stride: fc.tuple(int(1, 2), int(1, 2)),
          causal: fc.tuple(fc.boolean(), fc.boolean()),
        })
        .filter((p) => p.stride[0] <= p.kernelSize[0] && p.stride[1] <= p.kernelSize[1]),
      fc.record({ grid: fc.tuple(fc.constant(0), int(1, 4), int(1, 5)), kernelSize: int(1, 3), causal: fc.boolean() }),
    ),
  ],
  [
    s2Attention,
    fc.record({
      blockSize: int(1, 8),
      localBlocks: int(0, 4),
      vertStride: int(1, 5),
      denseHeads: int(0, 1),
      denseEvery: int(0, 2),
      groupSize: int(1, 2),
      homogeneous: fc.boolean(),
    }),
  ],
  [
    moa,
    fc.record({
      alpha: fc.array(int(-20, 20), { minLength: 1, maxLength: 3 }),
      beta: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }),
      sink: int(0, 6),
    }),
  ],
  [powerAttention, fc.record({ blockSize: int(1, 6), localBlocks: int(1, 3), sinkBlocks: int(0, 2) })],
  [
    radial,
    fc.record({
      tokensPerFrame: int(1, 12),
      decayFactor: fc.constantFrom(0.2, 0.5, 1),
      model: fc.constantFrom('hunyuan', 'wan'),
      minWindow: int(1, 6),
      sinkFrame: fc.boolean(),
    }),
  ],
  [
    sparseVdit,
    fc.record({
      pattern: fc.constantFrom('diagonal', 'multi-diagonal', 'vertical-stripe'),
      window: int(0, 6),
      tokensPerFrame: int(1, 16),
      stripePeriod: int(1, 16),
      stripeWidth: int(1, 4),
    }),
  ],
  [
    grid,
    fc.record({
      stride: int(1, 12),
      phase: int(0, 12),
      window: int(0, 6),
      vertical: fc.boolean(),
      horizontal: fc.boolean(),
      causal: fc.boolean(),
    }),
  ],
  [combiner, fc.record({ span: int(1, 16) })],
];
