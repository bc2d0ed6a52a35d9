import { describeBackend } from '@sparseland/conformance';
import { createCpuBackend } from '../src/index.js';

// The public conformance kit, for both implementations on the calling thread (threads: 1) and on two workers
// (threads: 2, minParallelWork 0 so even the kit's small cases go through the worker pool). Nothing is excluded.
for (const impl of ['ts', 'wasm'] as const) {
  for (const threads of [1, 2]) {
    describeBackend(() => createCpuBackend({ impl, threads, minParallelWork: 0 }), {
      name: `cpu (${impl}, ${threads} thread${threads > 1 ? 's' : ''})`,
    });
  }
}
