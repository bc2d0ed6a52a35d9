import { expect, it } from 'vitest';
import { createCpuBackend } from '../src/index.js';
import { kernelBytes } from '../src/wasm/wasm-module.js';

// Its own file, so its own process: what the V8 flag looked like before any backend was created here.
// Setting --experimental-wasm-relaxed-simd is process-wide, so relaxedSimd: false must leave it alone; the default
// then turns relaxed SIMD on (where the engine has it behind the flag, as Node 20) and uses it.
it('relaxedSimd: false leaves the engine as it was; the default enables relaxed SIMD and runs it', async () => {
  const relaxed = kernelBytes('relaxed') as BufferSource;
  const before = WebAssembly.validate(relaxed);
  const plain = await createCpuBackend({ relaxedSimd: false, threads: 2, minParallelWork: 0 });
  expect(plain.simd).toBe('simd128');
  expect(WebAssembly.validate(relaxed)).toBe(before);
  await plain.dispose();
  const auto = await createCpuBackend({ threads: 2, minParallelWork: 0 });
  expect(auto.simd).toBe('relaxed');
  expect(WebAssembly.validate(relaxed)).toBe(true);
  await auto.dispose();
});
