import type { HeadTensor } from '@sparseland/core';
import { gpu } from '../runtime/gpujs.js';
import type { KernelCache } from '../runtime/kernel-cache.js';

/** What an op needs: the backend's kernel cache, its mode, and how to hand a 2D array to its kernels. */
export interface GpuContext {
  readonly cache: KernelCache;
  readonly mode: string;
  /** Threads the P·V kernel should reach by splitting long rows (0: never split). */
  readonly valueThreads: number;
  /** A flat array as a kernel argument `[height][width]`. */
  grid(data: Float32Array, width: number, height: number): unknown;
}

export function createContext(cache: KernelCache, mode: string, valueThreads: number): GpuContext {
  return {
    cache,
    mode,
    valueThreads,
    grid:
      mode === 'cpu'
        ? // gpu.js 2.24.1's cpu mode indexes flattened `input()` arguments with the kernel's *output* width when
          // dynamicArguments is on; row views (no copy) are indexed correctly.
          (data, width, height) => Array.from({ length: height }, (_, y) => data.subarray(y * width, (y + 1) * width))
        : (data, width, height) => gpu.input(data, [width, height]),
  };
}

/** A HeadTensor as a `[heads · length][dim]` kernel argument. */
export function tensorGrid(ctx: GpuContext, t: HeadTensor): unknown {
  return ctx.grid(t.data, t.dim, t.heads * t.length);
}
