import { type BackendPlugin, defineBackend } from '@sparseland/core';
import { createCpuBackend } from './backend.js';
import { cpuBackendParams } from './options.js';
import { createTsKernels, createViews } from './ts-kernels.js';

/** Runs one tiny tile on the TypeScript kernels: the backend's floor, which needs nothing but typed arrays. */
function probe(): boolean {
  try {
    const views = createViews(new ArrayBuffer(1 << 16));
    const k = createTsKernels(views);
    k.configure(4);
    views.i32.set([0, 1024, 1100, 0], 2000);
    views.f32.set([1, 0, 0, 0], 0);
    k.begin(4096, 2000, 1, 1);
    k.tile(4096, 1, 2048, 3072, 1, 0, 0, -1, -1);
    k.finish(4096, 2000, 1);
    return views.f32[1100 + 1] === 1;
  } catch {
    return false;
  }
}

/**
 * The CPU backend as a plugin: WebAssembly (relaxed SIMD or SIMD128) or TypeScript kernels over worker threads sharing memory, in
 * Node and browsers. Higher priority than the reference backend, lower than GPU backends.
 */
export const cpuBackend: BackendPlugin<typeof cpuBackendParams> = defineBackend({
  name: 'cpu',
  summary:
    'Fast CPU attention kernels (WebAssembly relaxed SIMD or SIMD128, or TypeScript) split across worker threads over shared memory.',
  paper: {
    title: 'FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness',
    year: 2022,
    url: 'https://arxiv.org/abs/2205.14135',
  },
  params: cpuBackendParams,
  priority: 10,
  isSupported: async () => probe(),
  create: async (options) => createCpuBackend(options),
});
