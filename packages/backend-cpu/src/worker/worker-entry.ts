// The worker script: bundled with the driver and the TypeScript kernels into src/generated/worker-source.ts
// (scripts/generate.mjs), and started from that string in Node (worker_threads, eval) and browsers (Blob URL).
import { runJob } from '../driver/run-job.js';
import type { Kernels } from '../kernels.js';
import { createTsKernels, createViews, type MemoryViews } from '../ts-kernels.js';

/** What the host gives the worker: a way to post to it and to receive its messages. */
export interface WorkerPort {
  post(message: unknown): void;
  listen(handler: (message: WorkerRequest) => void): void;
}

export type WorkerRequest =
  | { type: 'init'; impl: 'wasm'; module: WebAssembly.Module; memory: WebAssembly.Memory }
  | { type: 'init'; impl: 'ts'; buffer: ArrayBufferLike }
  | { type: 'job'; job: number; scr: number; buffer?: ArrayBufferLike };

export function start(port: WorkerPort): void {
  let kernels: Kernels | undefined;
  let views: MemoryViews | undefined;
  let memory: WebAssembly.Memory | undefined;
  port.listen((msg) => {
    try {
      if (msg.type === 'init') {
        if (msg.impl === 'wasm') {
          memory = msg.memory;
          views = createViews(memory.buffer);
          kernels = new WebAssembly.Instance(msg.module, { env: { memory } }).exports as unknown as Kernels;
        } else {
          views = createViews(msg.buffer);
          kernels = createTsKernels(views);
        }
        port.post({ type: 'ready' });
        return;
      }
      if (!kernels || !views) throw new Error('job before init');
      // The memory may have grown (wasm) or been replaced (ts) since the last job: refresh the views.
      const buffer = memory ? memory.buffer : msg.buffer;
      if (buffer && (buffer !== views.f32.buffer || buffer.byteLength !== views.f32.length * 4)) Object.assign(views, createViews(buffer));
      runJob(kernels, views, msg.job, msg.scr);
      port.post({ type: 'done' });
    } catch (error) {
      port.post({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
}
