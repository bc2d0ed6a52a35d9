import { type CpuBackend, createCpuBackend } from '@sparseland/backend-cpu';
import { createGpujsBackend, type GpujsBackend } from '@sparseland/backend-gpujs';
import type { Backend } from '@sparseland/core';
import type { BackendName, BackendStatus } from './protocol.js';

/**
 * The engine's backends, created once each and on first use. The CPU backend always exists (it captures the model's
 * Q/K/V); a gpu.js mode that cannot run throws E_BACKEND_UNAVAILABLE with the probe's reason.
 */
export class BackendPool {
  private cpu: Promise<{ backend: CpuBackend; reason?: string }> | undefined;
  private readonly gpu = new Map<'webgl2' | 'webgpu', Promise<GpujsBackend>>();

  /** The CPU backend on every core; one thread, with the reason, where memory cannot be shared with workers. */
  cpuBackend(): Promise<{ backend: CpuBackend; reason?: string }> {
    this.cpu ??= (async () => {
      const cores = Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1);
      if (cores > 1) {
        try {
          return { backend: await createCpuBackend({ threads: cores }) };
        } catch (error) {
          // e.g. "2 threads need shared memory: the page is not cross-origin isolated …"
          return { backend: await createCpuBackend({ threads: 1 }), reason: messageOf(error) };
        }
      }
      return { backend: await createCpuBackend({ threads: 1 }) };
    })();
    return this.cpu;
  }

  async get(name: BackendName): Promise<Backend> {
    if (name === 'cpu') return (await this.cpuBackend()).backend;
    let backend = this.gpu.get(name);
    if (!backend) {
      backend = createGpujsBackend({ mode: name });
      this.gpu.set(name, backend);
      backend.catch(() => this.gpu.delete(name));
    }
    return backend;
  }

  /** The CPU backend's status (starting it if needed). */
  async cpuStatus(): Promise<BackendStatus> {
    try {
      const { backend, reason } = await this.cpuBackend();
      const simd =
        backend.simd === 'none' ? 'TypeScript kernels' : `WebAssembly ${backend.simd === 'relaxed' ? 'relaxed SIMD' : 'SIMD128'}`;
      const detail = `${simd}, ${backend.threads} thread${backend.threads > 1 ? 's' : ''}`;
      return reason === undefined ? { name: 'cpu', ok: true, detail } : { name: 'cpu', ok: true, detail, reason };
    } catch (error) {
      return { name: 'cpu', ok: false, reason: messageOf(error) };
    }
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
