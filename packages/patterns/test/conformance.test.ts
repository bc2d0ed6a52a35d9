import { createCpuBackend } from '@sparseland/backend-cpu';
import { type DescribePatternOptions, describePattern, REFERENCE_BACKEND } from '@sparseland/conformance';
import type { PatternPlugin } from '@sparseland/core';
import { patterns } from '../src/index.js';

// Each pattern's masks run on the float64 reference and on the cpu backend's kernels (partial blocks, columns,
// broadcast heads, score modifiers), against the reference attention of the exact MaskMod.
const backends: DescribePatternOptions['backends'] = [
  REFERENCE_BACKEND,
  { name: 'cpu (2 threads, every job on the workers)', create: () => createCpuBackend({ threads: 2, minParallelWork: 0 }) },
];

// Small parameter sets per pattern, besides the defaults: windows and blocks that make partial blocks, GQA-like
// head sharing and borders on the kit's odd shapes (1×1, 37, 100 with layer 1, chunked 19 of 83, decode at 129).
const PARAM_SETS: Record<string, Record<string, unknown>[]> = {
  full: [],
  causal: [],
  'sliding-window': [{ window: 1 }, { window: 7 }, { window: 13, causal: false }],
  'dilated-window': [
    { window: 4, dilation: 3 },
    { window: 5, dilation: 2, causal: false },
  ],
  'a-shape': [
    { sink: 4, local: 16 },
    { sink: 0, local: 1 },
    { sink: 70, local: 9 },
  ],
  'tri-shape': [
    { sink: 4, local: 16, last: 10 },
    { sink: 1, local: 3, last: 1 },
  ],
  strided: [{ stride: 7 }, { stride: 5, heads: 'alternating' }],
  fixed: [
    { stride: 16, summary: 2 },
    { stride: 12, summary: 3, distinctHeads: true },
  ],
  longformer: [
    { window: 10, globalTokens: [0, 50] },
    { window: 6, globalTokens: [3, 99], causal: true },
  ],
  bigbird: [{ blockSize: 8 }, { blockSize: 5, randomBlocks: 2, windowBlocks: 1, seed: 3 }, { blockSize: 16, globalBlocks: 2 }],
  neighborhood: [
    { kernelSize: 9, dilation: 2 },
    { kernelSize: 5, stride: 3, causal: true },
    { grid: [0, 10], kernelSize: [3, 5], dilation: [1, 2] },
    { grid: [0, 4, 5], kernelSize: 3, causal: [true, false, false] },
  ],
  's2-attention': [
    { blockSize: 8, localBlocks: 2, vertStride: 3 },
    { blockSize: 4, localBlocks: 1, vertStride: 4, denseHeads: 1, groupSize: 2 },
    { blockSize: 8, denseEvery: 2 },
  ],
  moa: [
    { alpha: [8, 2, -4], beta: [0.1, 0.5], sink: 4 },
    { alpha: [[16], [4, 8]], beta: 0, sink: 0 },
  ],
  'power-attention': [{ blockSize: 4 }, { blockSize: 1, localBlocks: 3, sinkBlocks: 2 }],
  radial: [
    { tokensPerFrame: 16, minWindow: 4 },
    { tokensPerFrame: 10, model: 'wan', decayFactor: 0.2, minWindow: 2 },
  ],
  'sparse-vdit': [
    { window: 4 },
    { pattern: 'multi-diagonal', tokensPerFrame: 20, window: 3 },
    { pattern: 'multi-diagonal', tokensPerFrame: 16, window: 2, maxLag: 2 },
    { pattern: 'vertical-stripe', stripePeriod: 20, stripeWidth: 3 },
  ],
  grid: [
    { stride: 16, window: 4 },
    { stride: 7, phase: 3, horizontal: false, causal: false },
  ],
  combiner: [{ span: 16 }],
  alibi: [{ maxBias: 4 }],
  'relative-bias': [
    { buckets: 8, maxDistance: 20 },
    {
      buckets: 4,
      bidirectional: false,
      bias: [
        [0, -1, -2, -3],
        [-0.5, -0.5, -1, -1],
      ],
    },
  ],
  'selective-temperature': [{ alpha: [0.1, 0.3], base: 16 }],
};

for (const plugin of patterns as readonly PatternPlugin[]) {
  const paramSets = PARAM_SETS[plugin.name];
  if (!paramSets) throw new Error(`no conformance parameter sets for pattern ${plugin.name}: add them to PARAM_SETS`);
  describePattern(plugin, { paramSets, backends });
}
