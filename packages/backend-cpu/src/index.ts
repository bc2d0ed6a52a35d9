export type { CpuBackend, CpuBackendOptions } from './backend.js';
export { createCpuBackend } from './backend.js';
export type { CpuImpl, CpuSimd } from './executor.js';
export { cpuBackend, cpuBackendParams } from './plugin.js';
