export type { CpuBackend, CpuBackendOptions } from './backend.js';
export { createCpuBackend } from './backend.js';
export type { CpuImpl, CpuSimd } from './executor.js';
export { cpuBackend } from './plugin.js';
export { cpuBackendParams, MAX_THREADS } from './options.js';
