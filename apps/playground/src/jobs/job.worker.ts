// Long jobs (a density sweep, the per-head recipe search) run here, on their own CPU backend, so the engine keeps
// answering the page. Cancel = the page terminates this worker (and with it the backend's threads).
import { createCpuBackend } from '@sparseland/backend-cpu';
import { messageOf } from '../engine/backends.js';
import { registry } from '../registry.js';
import { runDensitySweep } from './density-sweep.js';
import type { Job, JobReply } from './protocol.js';
import { runRecipeSearch } from './recipe-search.js';

function post(message: JobReply): void {
  (self as unknown as Worker).postMessage(message);
}

async function run(job: Job): Promise<void> {
  const cores = Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1);
  const backend = await createCpuBackend({ threads: globalThis.crossOriginIsolated ? cores : 1 });
  try {
    const onProgress = (done: number, total: number | undefined, message: string) => post({ kind: 'progress', done, total, message });
    if (job.type === 'sweep') {
      const result = await runDensitySweep({ ...job, registry, backend, onProgress });
      post({ kind: 'result', result });
    } else {
      const { result, candidates } = await runRecipeSearch({ ...job, registry, backend, onProgress });
      post({ kind: 'result', result: { kind: 'search', recipe: result.recipe, summary: result.summary, candidates } });
    }
  } finally {
    await backend.dispose();
  }
}

self.onmessage = (e: MessageEvent<Job>) => {
  run(e.data).catch((error: unknown) => post({ kind: 'error', message: messageOf(error) }));
};
