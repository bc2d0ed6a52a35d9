import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createBlockMask, randomHeadTensor, referenceAttention } from '@sparseland/core';
import { buildBlockMask } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { createGpujsBackend } from '../src/index.js';

describe('resource hygiene', () => {
  it('compiles kernels once per shape class: lengths, heads and masks change without new kernels', async () => {
    const backend = await createGpujsBackend({ mode: 'webasm' });
    try {
      const run = async (length: number, heads: number) => {
        const q = randomHeadTensor({ heads, length, dim: 16, seed: length });
        await backend.attend({ q, k: q, v: q });
      };
      await run(70, 2);
      const compiled = backend.kernelsCompiled();
      expect(compiled).toBe(5);
      // Every length ≥ 64 uses 64×64 tiles: same shape class, same kernels, whatever the length or head count.
      for (let n = 64; n < 200; n += 9) await run(n, 1 + (n % 3));
      expect(backend.kernelsCompiled()).toBe(compiled);
      expect(backend.kernelCount()).toBe(compiled);
      expect(backend.fallbacks()).toEqual([]);
    } finally {
      await backend.dispose();
    }
    expect(backend.kernelCount()).toBe(0);
  });

  it('the kernel cache stays bounded when shape classes keep changing (least recently used kernels are destroyed)', async () => {
    const backend = await createGpujsBackend({ mode: 'cpu', kernelCacheLimit: 8 });
    try {
      for (let dim = 1; dim <= 6; dim++) {
        const q = randomHeadTensor({ heads: 1, length: 5, dim, seed: dim });
        const result = await backend.attend({ q, k: q, v: q });
        // Evicted kernels are recompiled on demand and still right.
        expect(Array.from(result.lse)).toEqual(Array.from(referenceAttention({ q, k: q, v: q }).lse).map((x) => expect.closeTo(x, 4)));
        expect(backend.kernelCount()).toBeLessThanOrEqual(8);
      }
      expect(backend.kernelsCompiled()).toBe(30);
    } finally {
      await backend.dispose();
    }
  });

  it('a long loop of block-sparse calls does not grow the cache or the heap', async () => {
    const backend = await createGpujsBackend({ mode: 'webasm' });
    const shape = { heads: 2, qLength: 96, kvLength: 96, qOffset: 0 };
    const q = randomHeadTensor({ heads: 2, length: 96, dim: 16, seed: 1 });
    const masks = [
      { blocks: createBlockMask((_h, qp, kp) => kp <= qp && qp - kp < 20, shape, { blockQ: 32, blockK: 32 }) },
      { blocks: buildBlockMask(shape, { blockQ: 32, blockK: 32 }, {}, (_h, qb, full) => full.push(qb)) },
    ];
    // A real collection before each reading, so the numbers are live memory and not garbage not yet collected.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = async (): Promise<number> => {
      await new Promise((r) => setTimeout(r, 0));
      gc();
      return process.memoryUsage().heapUsed;
    };
    try {
      for (let i = 0; i < 10; i++) await backend.attend({ q, k: q, v: q }, { mask: masks[i % 2] });
      const kernels = backend.kernelCount();
      const before = await heap();
      for (let i = 0; i < 200; i++) await backend.attend({ q, k: q, v: q }, { mask: masks[i % 2] });
      const after = await heap();
      expect(backend.kernelCount()).toBe(kernels);
      // Each call allocates ~100 KB of plans and results; 200 calls that leaked them would add ~20 MB.
      expect(after - before).toBeLessThan(8 * 1024 * 1024);
    } finally {
      await backend.dispose();
    }
  });
});
