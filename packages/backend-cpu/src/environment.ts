import { relaxedSelfTest } from './wasm/self-test.js';
import { kernelBytes, loadKernels } from './wasm/wasm-module.js';

/** True in Node (worker_threads); false in browsers and other hosts (Web Workers). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/**
 * Whether threads can share memory here: SharedArrayBuffer exists (browsers only expose it on cross-origin
 * isolated pages) and a shared WebAssembly.Memory can be made.
 */
export function sharedMemoryReason(): string | undefined {
  if (typeof SharedArrayBuffer !== 'function') {
    return 'SharedArrayBuffer is not available (a browser page must be cross-origin isolated: COOP same-origin + COEP require-corp)';
  }
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  if (isolated === false) return 'the page is not cross-origin isolated, so memory cannot be shared with workers';
  return undefined;
}

/** Undefined when the WebAssembly SIMD kernels compile and run here, else why not. */
export async function wasmReason(): Promise<string | undefined> {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.compile !== 'function') return 'WebAssembly is not available';
  try {
    const shared = sharedMemoryReason() === undefined;
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared });
    const { kernels } = await loadKernels('simd128', shared, memory);
    // A real call: softmax of two values.
    const f32 = new Float32Array(memory.buffer);
    f32[16] = 0;
    f32[17] = 0;
    kernels.softmaxRow(16, 2);
    if (f32[16] !== 0.5) return `the kernels computed ${f32[16]} instead of 0.5`;
    return undefined;
  } catch (error) {
    return `WebAssembly SIMD128 kernels do not load: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The V8 flag that turns WebAssembly relaxed SIMD on in engines that still keep it behind one (Node 20). */
export const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

/**
 * Undefined when the relaxed-SIMD kernels run here and agree with the SIMD128 ones on a start-up self-test, else
 * why not. The bytes must validate; in Node, when they do not, this sets V8's `--experimental-wasm-relaxed-simd`
 * (process-wide, before anything relaxed is compiled; workers started later inherit it) and validates again.
 * Browsers only validate. Call only after wasmReason() found the SIMD128 kernels working.
 */
export function relaxedSimdReason(): Promise<string | undefined> {
  // Once per realm: the answer cannot change, and the self-test compiles both builds.
  relaxedVerdict ??= checkRelaxedSimd();
  return relaxedVerdict;
}

let relaxedVerdict: Promise<string | undefined> | undefined;

async function checkRelaxedSimd(): Promise<string | undefined> {
  try {
    const bytes = kernelBytes('relaxed') as BufferSource;
    if (!WebAssembly.validate(bytes)) {
      if (!isNode()) return 'this engine does not support WebAssembly relaxed SIMD';
      try {
        const v8 = (await import(/* @vite-ignore */ nodeBuiltin('v8'))) as typeof import('node:v8');
        v8.setFlagsFromString(RELAXED_SIMD_FLAG);
      } catch (error) {
        return `WebAssembly relaxed SIMD is off and ${RELAXED_SIMD_FLAG} could not be set: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (!WebAssembly.validate(bytes)) return `this engine does not support WebAssembly relaxed SIMD, even with ${RELAXED_SIMD_FLAG}`;
    }
    return await relaxedSelfTest(sharedMemoryReason() === undefined);
  } catch (error) {
    return `the relaxed-SIMD kernels do not load: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Logical cores available to this process (Node: os.availableParallelism; browsers: hardwareConcurrency). */
export async function availableCores(): Promise<number> {
  if (isNode()) {
    try {
      const os = (await import(/* @vite-ignore */ nodeBuiltin('os'))) as typeof import('node:os');
      return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
    } catch {
      return 1;
    }
  }
  const hc = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.max(1, hc ?? 1);
}

/**
 * The specifier of a Node built-in, built at run time so browser bundlers never see a static `node:` import
 * (the package must not pull Node built-ins into a browser bundle).
 */
export function nodeBuiltin(name: string): string {
  return ['node', name].join(':');
}
