import { z } from 'zod';

/** Jobs smaller than this many multiply-adds run on the calling thread (a round trip to the workers is ~0.1 ms). */
export const DEFAULT_MIN_PARALLEL_WORK = 1 << 22;

/**
 * The most worker threads one backend starts. Each worker holds a WebAssembly instance and scratch memory, and
 * attention stops scaling long before this on any machine JavaScript runs on.
 */
export const MAX_THREADS = 64;

/** Options of `createCpuBackend` and the `cpu` plugin (strict: a misspelt option is refused by name). */
export const cpuBackendParams = z
  .object({
    impl: z.enum(['auto', 'wasm', 'ts']).default('auto').describe("'auto' = wasm when WebAssembly SIMD runs here, else ts"),
    relaxedSimd: z
      .boolean()
      .optional()
      .describe('WebAssembly relaxed SIMD (FMA): default when it runs here, false = SIMD128 only, true = required'),
    threads: z
      .number()
      .int()
      .min(1)
      .max(MAX_THREADS)
      .optional()
      .describe(`worker threads, at most ${MAX_THREADS} (default: available cores)`),
    minParallelWork: z
      .number()
      .int()
      .min(0)
      .default(DEFAULT_MIN_PARALLEL_WORK)
      .describe('jobs with fewer multiply-adds run on the calling thread'),
  })
  .strict();
