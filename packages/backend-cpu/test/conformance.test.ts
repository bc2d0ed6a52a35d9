import { describeBackend } from '@sparseland/conformance';
import { cpuBackend, createCpuBackend } from '../src/index.js';

// The public conformance kit, for every implementation and WebAssembly build (TypeScript; WebAssembly SIMD128;
// WebAssembly relaxed SIMD, required here so a fallback cannot pass for it) on the calling thread (threads: 1) and
// on two workers (threads: 2, minParallelWork 0 so even the kit's small cases go through the worker pool).
// Nothing is excluded.
const variants = [
  { label: 'ts', impl: 'ts', relaxedSimd: false },
  { label: 'wasm simd128', impl: 'wasm', relaxedSimd: false },
  { label: 'wasm relaxed', impl: 'wasm', relaxedSimd: true },
] as const;

describeBackend(cpuBackend, {
  backends: variants.flatMap(({ label, impl, relaxedSimd }) =>
    [1, 2].map((threads) => ({
      name: `cpu (${label}, ${threads} thread${threads > 1 ? 's' : ''})`,
      create: () => createCpuBackend({ impl, relaxedSimd, threads, minParallelWork: 0 }),
    })),
  ),
});
