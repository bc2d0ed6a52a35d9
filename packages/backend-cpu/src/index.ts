export type { CpuBackend, CpuBackendOptions } from './backend.js';
export { createCpuBackend } from './backend.js';
export type { CpuImpl } from './executor.js';
export { cpuBackend, cpuBackendParams } from './plugin.js';
