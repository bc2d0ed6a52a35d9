import type { BackendStatus } from './protocol.js';

/** Probes webgl2 and webgpu for real in a short-lived worker and returns each mode's status with its reason. */
export function probeGpuModes(): Promise<BackendStatus[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./probe.worker.ts', import.meta.url), { type: 'module', name: 'sparseland-gpu-probe' });
    worker.onmessage = (e: MessageEvent<BackendStatus[]>) => {
      worker.terminate();
      resolve(e.data);
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(`the GPU probe failed: ${e.message}`));
    };
  });
}
