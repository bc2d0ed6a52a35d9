// Probes the gpu.js modes in a worker of their own: each probe compiles and runs a kernel, which would otherwise
// hold up the engine (the first picture and method switches) for seconds on a software GPU.
import { probeMode } from '@sparseland/backend-gpujs';
import { messageOf } from './backends.js';
import type { BackendStatus } from './protocol.js';

async function probe(): Promise<BackendStatus[]> {
  const out: BackendStatus[] = [];
  for (const mode of ['webgl2', 'webgpu'] as const) {
    try {
      const p = await probeMode(mode);
      out.push(
        p.ok
          ? { name: mode, ok: true, detail: p.detail ?? `gpu.js ${mode}` }
          : { name: mode, ok: false, reason: p.reason ?? 'unavailable' },
      );
    } catch (error) {
      out.push({ name: mode, ok: false, reason: messageOf(error) });
    }
  }
  return out;
}

void probe().then((statuses) => (self as unknown as Worker).postMessage(statuses));
