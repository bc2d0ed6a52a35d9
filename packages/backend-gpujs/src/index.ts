export type { GpujsBackend, GpujsBackendOptions } from './create-backend.js';
export { chooseMode, createGpujsBackend } from './create-backend.js';
export { MAX_KERNEL_CACHE, MAX_VALUE_THREADS, gpujsParams } from './options.js';
export { gpujsBackend } from './plugin.js';
export type { GpujsMode, ModeProbe } from './runtime/modes.js';
export { GPU_MODES, GPUJS_MODES, probeAllModes, probeMode } from './runtime/modes.js';
