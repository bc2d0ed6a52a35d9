import { describeBackend } from '@sparseland/conformance';
import { createCpuBackend } from '../src/index.js';

// The public conformance kit, for every implementation and WebAssembly build (TypeScript; WebAssembly SIMD128;
// WebAssembly relaxed SIMD, required here so a fallback cannot pass for it) on the calling thread (threads: 1) and
// on two workers (threads: 2, minParallelWork 0 so even the kit's small cases go through the worker pool).
// Nothing is excluded.
const variants = [
  { label: 'ts', impl: 'ts', relaxedSimd: false },
  { label: 'wasm simd128', impl: 'wasm', relaxedSimd: false },
  { label: 'wasm relaxed', impl: 'wasm', relaxedSimd: true },
] as const;

for (const { label, impl, relaxedSimd } of variants) {
  for (const threads of [1, 2]) {
    describeBackend(() => createCpuBackend({ impl, relaxedSimd, threads, minParallelWork: 0 }), {
      name: `cpu (${label}, ${threads} thread${threads > 1 ? 's' : ''})`,
    });
  }
}
