// describeKvPolicy on every built-in policy, with small budgets so each one acts on the kit's shapes.
import { createCpuBackend } from '@sparseland/backend-cpu';
import { DEFAULT_KV_POLICY_SHAPES, describeKvPolicy, REFERENCE_BACKEND } from '@sparseland/conformance';
import { describe, expect, it } from 'vitest';
import {
  adaKv,
  doubleSparsity,
  duoAttention,
  expectedAttention,
  fullCache,
  h2o,
  kivi,
  kvPolicies,
  pyramidKv,
  quest,
  snapKv,
  streamingLlm,
  tidalDecode,
  tova,
  zipCache,
} from '../src/index.js';

// Packed, selected and evicted caches are also decoded by the cpu backend (WebAssembly, one thread) against the
// reference: its KV store mirrors the cache (rewritten per head after evictions), or its decodePacked reads the codes.
const withCpu = [REFERENCE_BACKEND, { name: 'cpu (wasm, 1 thread)', create: () => createCpuBackend({ impl: 'wasm', threads: 1 }) }];

describeKvPolicy(fullCache);
describeKvPolicy(streamingLlm, {
  backends: withCpu,
  paramSets: [
    { budget: 20, sink: 4 },
    { budget: 0.3, sink: 0 },
  ],
  badParams: [{ budget: 4, sink: 4 }, { budget: -1 }],
});
describeKvPolicy(h2o, {
  paramSets: [{ budget: 12, recentShare: 0.25 }, { budget: 0.2 }],
  badParams: [{ recentShare: 2 }, { budget: 2.5 }],
});
describeKvPolicy(tova, { paramSets: [{ budget: 10 }, { budget: 0.5 }], badParams: [{ budget: 0 }] });
describeKvPolicy(snapKv, {
  paramSets: [
    { budget: 16, window: 4, kernel: 3 },
    { budget: 0.25, pooling: 'max' },
  ],
  badParams: [{ kernel: 0 }, { pooling: 'sum' }],
});
describeKvPolicy(pyramidKv, { paramSets: [{ budget: 24, window: 4, beta: 5 }, { budget: 0.4 }], badParams: [{ beta: 0.5 }] });
describeKvPolicy(adaKv, {
  backends: withCpu,
  paramSets: [{ budget: 14, window: 4, alpha: 0.3 }, { budget: 0.25 }],
  badParams: [{ alpha: 1.5 }],
});
describeKvPolicy(expectedAttention, {
  paramSets: [
    { budget: 15, futurePositions: 32, statsWindow: 16 },
    { budget: 0.3, covariance: false },
  ],
  badParams: [{ statsWindow: 1 }],
});
describeKvPolicy(quest, {
  backends: withCpu,
  paramSets: [
    { budget: 24, pageSize: 4, denseLayers: 1 },
    { budget: 0.3, pageSize: 8, denseLayers: 0 },
  ],
  badParams: [{ pageSize: 0 }],
});
describeKvPolicy(tidalDecode, {
  backends: withCpu,
  paramSets: [
    { budget: 12, selectionLayer: 1, correctionLayer: 2 },
    { budget: 0.2, selectionLayer: 0, correctionLayer: 9 },
  ],
  badParams: [{ selectionLayer: -1 }],
});
describeKvPolicy(doubleSparsity, {
  paramSets: [
    { budget: 10, groupFactor: 2, denseLayers: 1 },
    { budget: 0.25, labelBits: 8, denseLayers: 0 },
  ],
  badParams: [{ labelBits: 1 }],
});
describeKvPolicy(duoAttention, {
  backends: withCpu,
  paramSets: [{ streamingHeads: [[0], [1], [0, 1], []], sink: 2, recent: 8 }],
  badParams: [{ recent: 0 }, { streamingHeads: [[-1]] }],
  // The parameter set names kv head 1, which a one-kv-head model does not have (that error has its own test).
  shapes: DEFAULT_KV_POLICY_SHAPES.filter((s) => s.kvHeads >= 2),
});
describeKvPolicy(kivi, {
  backends: withCpu,
  paramSets: [
    { bits: 4, group: 8, residual: 4 },
    { bits: 2, group: 16, residual: 0 },
  ],
  badParams: [{ bits: 3 }, { group: 0 }],
});
describeKvPolicy(zipCache, {
  backends: withCpu,
  paramSets: [
    { recent: 8, group: 8, tau: 0.9 },
    { recent: 4, highBits: 8, lowBits: 4, probeFraction: 0.5 },
  ],
  badParams: [{ tau: 1.5 }, { lowBits: 3 }],
});

describe('the kv-cache package', () => {
  it('registers every policy once, with distinct kebab-case names', () => {
    const names = kvPolicies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual([
      'full-cache',
      'streaming-llm',
      'h2o',
      'tova',
      'snapkv',
      'pyramidkv',
      'adakv',
      'expected-attention',
      'quest',
      'tidal-decode',
      'double-sparsity',
      'duo-attention',
      'kivi',
      'zipcache',
    ]);
  });
});
