// Routing (k-means) and Reformer (angular LSH) on inputs with two perfectly separated clusters of tokens.
import { type Backend, createHeadTensor } from '@sparseland/core';
import { createRng } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { estimate, keptKeys, reference } from '../../test/helpers.js';
import { reformerLsh } from './reformer-lsh.js';
import { routing } from './routing.js';

/** Tokens alternate between two orthogonal (or opposite) directions, with seeded Gaussian jitter; q equals k. */
function twoClusters(n: number, jitter: number, antipodal = false) {
  const rng = createRng(31);
  const t = createHeadTensor(1, n, 8);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 8; c++) t.data[i * 8 + c] = jitter * rng.normal();
    if (antipodal) t.data[i * 8] = i % 2 === 0 ? 1 : -1;
    else t.data[i * 8 + (i % 2 === 0 ? 0 : 1)] = 1;
  }
  return { q: t, k: t, v: t };
}

describe('routing and reformer-lsh on separated clusters', () => {
  it('routing: each query keeps exactly the earlier keys of its own cluster', async () => {
    const input = twoClusters(40, 0.1);
    const { mask } = await estimate(routing, { windowSize: 20, clusters: 2, localWindow: 0, iterations: 5 }, input, {
      blockQ: 1,
      blockK: 8,
    });
    keptKeys(mask, input)[0]?.forEach((set, i) => {
      expect([...set].sort((a, b) => a - b)).toEqual(Array.from({ length: i + 1 }, (_, j) => j).filter((j) => j % 2 === i % 2));
    });
  });

  it('routing: a routing call that fails while the previous one is still computing rejects the build cleanly', async () => {
    // The second routing call fails at once while the first resolves later: the failure must reach the caller, not
    // surface as an unhandled rejection while the first call is awaited.
    const input = twoClusters(40, 0.1);
    let routed = 0;
    const backend = {
      ...reference,
      scores: async (call: never, options: { reduce?: { topK?: number } } = {}) => {
        if (options.reduce?.topK === undefined) return reference.scores(call, options as never);
        routed++;
        if (routed === 2) throw new Error('routing call 2 failed');
        await new Promise((resolve) => setTimeout(resolve, 20));
        return reference.scores(call, options as never);
      },
    } as Backend;
    const params = { windowSize: 20, clusters: 2, localWindow: 0, iterations: 1 };
    await expect(estimate(routing, params, input, { blockQ: 1, blockK: 8, backend })).rejects.toThrow('routing call 2 failed');
  });

  it('reformer-lsh: a query keeps only its cluster’s chunk (and itself) when chunks hold one cluster each', async () => {
    // Antipodal clusters: two buckets (the sign of one random projection) always separate them.
    const input = twoClusters(40, 0.01, true);
    const { mask } = await estimate(reformerLsh, { chunkLength: 20, numChunksBefore: 0, numBuckets: 2 }, input, { blockQ: 1, blockK: 8 });
    keptKeys(mask, input)[0]?.forEach((set, i) => {
      for (const j of set) expect(j % 2).toBe(i % 2);
      expect(set.has(i)).toBe(true);
      expect(set.size).toBe(Math.floor(i / 2) + 1);
    });
  });
});
