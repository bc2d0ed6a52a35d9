export type { GpujsBackend, GpujsBackendOptions } from './create-backend.js';
export { chooseMode, createGpujsBackend } from './create-backend.js';
export { gpujsBackend, gpujsParams } from './plugin.js';
export type { GpujsMode, ModeProbe } from './runtime/modes.js';
export { GPU_MODES, GPUJS_MODES, probeAllModes, probeMode } from './runtime/modes.js';
