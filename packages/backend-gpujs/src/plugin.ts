import { type BackendPlugin, defineBackend } from '@sparseland/core';
import { z } from 'zod';
import { createGpujsBackend } from './create-backend.js';
import { DEFAULT_KERNEL_CACHE_LIMIT } from './runtime/kernel-cache.js';
import { GPU_MODES, probeMode } from './runtime/modes.js';

/** The plugin's parameters (what `create(options)` accepts). */
export const gpujsParams = z
  .object({
    mode: z.enum(['auto', 'webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu']).default('auto'),
    kernelCacheLimit: z.number().int().min(8).default(DEFAULT_KERNEL_CACHE_LIMIT),
    /** P·V threads to aim for by splitting long rows; default: 262,144 in GPU modes, 0 in webasm and cpu. */
    valueThreads: z.number().int().min(0).optional(),
  })
  .strict();

/**
 * gpu.js as a sparseland backend. `isSupported()` is true when a GPU mode (webgpu, webgl2, headlessgl) answers for
 * real: gpu.js's CPU modes are slower than the CPU backend, so registry-level `auto` should not prefer them, but
 * `create({ mode: 'webasm' | 'cpu' })` runs anywhere.
 */
export const gpujsBackend: BackendPlugin<typeof gpujsParams> = defineBackend({
  name: 'gpujs',
  summary:
    'Block-sparse, column and dense attention, decode and estimator ops as gpu.js kernels (webgpu, webgl2, headlessgl, webasm, cpu).',
  paper: {
    title: 'GPU.js: GPU accelerated JavaScript',
    year: 2017,
    url: 'https://github.com/gpujs/gpu.js',
  },
  params: gpujsParams,
  priority: 20,
  isSupported: async () => {
    for (const mode of GPU_MODES) if ((await probeMode(mode)).ok) return true;
    return false;
  },
  create: async (options) => {
    const params = gpujsBackend.parseParams(options);
    return createGpujsBackend({ mode: params.mode, kernelCacheLimit: params.kernelCacheLimit, valueThreads: params.valueThreads });
  },
});
