import { z } from 'zod';
import { DEFAULT_KERNEL_CACHE_LIMIT } from './runtime/kernel-cache.js';

/** Compiled kernels one backend keeps at most (each holds GPU programs and buffers). */
export const MAX_KERNEL_CACHE = 4096;
/** P·V threads a split may aim for at most (far beyond one wave of any GPU). */
export const MAX_VALUE_THREADS = 1 << 24;

/** Options of `createGpujsBackend` and the `gpujs` plugin (strict: a misspelt option is refused by name). */
export const gpujsParams = z
  .object({
    mode: z.enum(['auto', 'webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu']).default('auto'),
    kernelCacheLimit: z.number().int().min(8).max(MAX_KERNEL_CACHE).default(DEFAULT_KERNEL_CACHE_LIMIT),
    /** P·V threads to aim for by splitting long rows; default: 262,144 in GPU modes, 0 in webasm and cpu. */
    valueThreads: z.number().int().min(0).max(MAX_VALUE_THREADS).optional(),
  })
  .strict();
