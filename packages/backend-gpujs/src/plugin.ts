import { type BackendPlugin, defineBackend } from '@sparseland/core';
import { createGpujsBackend } from './create-backend.js';
import { gpujsParams } from './options.js';
import { GPU_MODES, probeMode } from './runtime/modes.js';

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
  create: async (options) => createGpujsBackend(options),
});
