import { type Backend, type BackendTensor, SparselandError } from '@sparseland/core';
import { parseOptions } from '@sparseland/core/kit';
import { availableCores, isNode, relaxedSimdReason, sharedMemoryReason, wasmReason } from './environment.js';
import { type CpuImpl, type CpuSimd, Executor } from './executor.js';
import { attend } from './ops/attend.js';
import { allocateTensor } from './ops/backend-tensors.js';
import { decode } from './ops/decode.js';
import { createKvStoreOps } from './ops/kv-store.js';
import { createLinearOps } from './ops/linear.js';
import { decodePacked } from './ops/packed-decode.js';
import { prepareScoreInput } from './ops/prepared-input.js';
import { quantizedScores } from './ops/quantized-scores.js';
import { lastQueriesAttention, lastQueriesSums, pooledScores } from './ops/score-ops.js';
import { scores } from './ops/scores.js';
import { cpuBackendParams } from './options.js';

export interface CpuBackendOptions {
  /** 'wasm' (WebAssembly SIMD128), 'ts' (plain TypeScript) or 'auto' (wasm when it runs here, else ts). Default 'auto'. */
  readonly impl?: 'auto' | CpuImpl | undefined;
  /**
   * WebAssembly relaxed SIMD (FMA in the multiply-add loops). Default (undefined): used when the engine validates
   * it and it passes a start-up self-test against the SIMD128 kernels; in Node 20 this sets V8's process-wide
   * `--experimental-wasm-relaxed-simd` flag first. `false`: the SIMD128 kernels, and no flag is set. `true`: relaxed
   * SIMD is required (E_BACKEND_UNAVAILABLE with the reason when it cannot run).
   */
  readonly relaxedSimd?: boolean | undefined;
  /** Worker threads, 1 to MAX_THREADS (default: the available cores; 1 runs everything on the calling thread). */
  readonly threads?: number | undefined;
  /**
   * Jobs smaller than this many multiply-adds run on the calling thread, since a round trip to the workers costs
   * about 0.1 ms (default 2^22, about 1 ms of work). 0 sends every job to the workers.
   */
  readonly minParallelWork?: number | undefined;
}

/** The CPU backend: a core Backend, plus which implementation, kernel build and how many threads it runs. */
export interface CpuBackend extends Backend {
  readonly name: 'cpu';
  readonly impl: CpuImpl;
  /** The WebAssembly kernel build: 'relaxed' (relaxed SIMD, FMA) or 'simd128'; 'none' for impl 'ts'. */
  readonly simd: CpuSimd;
  readonly threads: number;
  /**
   * A zero-filled tensor in the backend's WebAssembly memory: `attend` reads it as q or v and writes it as `out` in
   * place, and `decode` reads it as q (when dim is a multiple of 4), sparing the copies a plain tensor costs per call.
   * With impl 'ts', or without shared memory, it is an ordinary tensor.
   */
  allocateTensor(heads: number, length: number, dim: number): Promise<BackendTensor>;
}

/**
 * Creates the CPU backend. An explicitly requested implementation that cannot run here, or threads > 1 where
 * memory cannot be shared, throws E_BACKEND_UNAVAILABLE naming the reason; only `impl: 'auto'` chooses.
 */
export async function createCpuBackend(input: CpuBackendOptions = {}): Promise<CpuBackend> {
  // Strict: a misspelt option ({ thread: 2 }) is refused by name instead of silently running with the default.
  const options = parseOptions(cpuBackendParams, input, 'the cpu backend');
  const requested = options.impl;
  const relaxed = options.relaxedSimd;
  if (relaxed === true && requested === 'ts') {
    throw new SparselandError('E_PARAMS', "cpu backend: relaxedSimd: true needs the WebAssembly kernels, but impl is 'ts'");
  }
  const minParallelWork = options.minParallelWork;
  const wasmProblem = requested === 'ts' ? undefined : await wasmReason();
  if (requested === 'wasm' && wasmProblem)
    throw new SparselandError('E_BACKEND_UNAVAILABLE', `cpu backend: impl 'wasm' cannot run here: ${wasmProblem}`);
  const impl: CpuImpl = requested === 'ts' || wasmProblem ? 'ts' : 'wasm';
  if (relaxed === true && impl === 'ts')
    throw new SparselandError('E_BACKEND_UNAVAILABLE', `cpu backend: relaxedSimd: true cannot run here: ${wasmProblem}`);
  const relaxedProblem = impl === 'wasm' && relaxed !== false ? await relaxedSimdReason() : 'off';
  if (relaxed === true && relaxedProblem)
    throw new SparselandError('E_BACKEND_UNAVAILABLE', `cpu backend: relaxedSimd: true cannot run here: ${relaxedProblem}`);
  const simd: CpuSimd = impl === 'ts' ? 'none' : relaxedProblem ? 'simd128' : 'relaxed';
  const sharingProblem = sharedMemoryReason();
  if (options.threads !== undefined && options.threads > 1 && sharingProblem) {
    throw new SparselandError('E_BACKEND_UNAVAILABLE', `cpu backend: ${options.threads} threads need shared memory: ${sharingProblem}`);
  }
  const threads = sharingProblem ? 1 : (options.threads ?? (await availableCores()));
  const exec = await Executor.create({
    impl,
    simd: simd === 'relaxed' ? 'relaxed' : 'simd128',
    threads,
    minParallelWork,
    shared: !sharingProblem,
    node: isNode(),
  });
  // Start the workers now: a host that cannot run them fails here, with the reason, rather than mid-call.
  await exec.warmUp();
  let disposed = false;
  const live = (): void => {
    if (disposed) throw new SparselandError('E_BACKEND_UNAVAILABLE', 'the cpu backend was used after dispose(); create a new one');
  };
  const { prepareLinear } = createLinearOps(exec, live);
  const { createKvStore } = createKvStoreOps(exec, live);
  return Object.freeze({
    name: 'cpu' as const,
    impl,
    simd,
    threads,
    attend(input, opts) {
      live();
      return exec.exclusive(() => attend(exec, input, opts));
    },
    decode(input, opts) {
      live();
      return exec.exclusive(() => decode(exec, input, opts));
    },
    decodePacked(input, opts) {
      live();
      return exec.exclusive(() => decodePacked(exec, input, opts));
    },
    pooledScores(input, opts) {
      live();
      return pooledScores(exec, input, opts);
    },
    lastQueriesAttention(input, opts) {
      live();
      return lastQueriesAttention(exec, input, opts);
    },
    lastQueriesSums(input, opts) {
      live();
      return lastQueriesSums(exec, input, opts);
    },
    quantizedScores(input, opts) {
      live();
      return quantizedScores(exec, input, opts);
    },
    scores(input, opts) {
      live();
      return scores(exec, input, opts);
    },
    prepareScoreInput(input) {
      live();
      return prepareScoreInput(exec, input);
    },
    allocateTensor(heads, length, dim) {
      live();
      return allocateTensor(exec, heads, length, dim);
    },
    prepareLinear,
    createKvStore,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await exec.exclusive(() => exec.dispose());
    },
  } satisfies CpuBackend);
}
