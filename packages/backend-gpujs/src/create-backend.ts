import { type Backend, SparselandError } from '@sparseland/core';
import { createHostKvStore, createHostLinear, parseOptions } from '@sparseland/core/kit';
import { attend } from './ops/attend.js';
import { createContext } from './ops/context.js';
import { decode } from './ops/decode.js';
import { lastQueriesAttention, lastQueriesSums } from './ops/last-queries.js';
import { decodePacked } from './ops/packed-decode.js';
import { pooledScores } from './ops/pooled-scores.js';
import { quantizedScores } from './ops/quantized-scores.js';
import { scores } from './ops/scores.js';
import { gpujsParams } from './options.js';
import { gpu } from './runtime/gpujs.js';
import { KernelCache } from './runtime/kernel-cache.js';
import { GPU_MODES, GPUJS_MODES, type GpujsMode, type ModeProbe, probeMode } from './runtime/modes.js';

/** P·V threads GPU modes aim for (about one wave on a large GPU). */
export const DEFAULT_VALUE_THREADS = 1 << 18;

export interface GpujsBackendOptions {
  /** gpu.js mode, or `auto` (default): the first of webgpu, webgl2, headlessgl, webasm, cpu that answers. */
  readonly mode?: 'auto' | GpujsMode | undefined;
  /** Compiled kernels kept per backend before the least recently used is destroyed (default 64). */
  readonly kernelCacheLimit?: number | undefined;
  /**
   * Threads the P·V kernel aims for: rows with many key blocks are split into chunks summed afterwards (as
   * flash-decoding does). Default 262,144 in GPU modes, 0 (no split) in webasm and cpu, which run on one thread.
   */
  readonly valueThreads?: number | undefined;
}

/** A Backend running on gpu.js, with what it chose and what it holds. */
export interface GpujsBackend extends Backend {
  readonly name: 'gpujs';
  /** The gpu.js mode that runs every kernel. */
  readonly impl: GpujsMode;
  /** Why this mode: the probes of the better modes `auto` skipped (empty for an explicit mode). */
  readonly skipped: readonly ModeProbe[];
  /** The mode's probe detail, e.g. the WebGPU adapter's name. */
  readonly detail: string | undefined;
  /** Compiled kernels held now (bounded by kernelCacheLimit; 0 after dispose). */
  kernelCount(): number;
  /** Kernels compiled since creation (a steady loop stops increasing it). */
  kernelsCompiled(): number;
  /** Kernels gpu.js silently ran in another mode than `impl`, with its reason (empty when impl is honest). */
  fallbacks(): readonly string[];
}

/** Picks the mode: an explicit one must pass its probe, `auto` takes the first that does. */
export async function chooseMode(requested: 'auto' | GpujsMode): Promise<{ probe: ModeProbe; skipped: ModeProbe[] }> {
  if (requested !== 'auto') {
    if (!GPUJS_MODES.includes(requested)) {
      throw new SparselandError('E_PARAMS', `gpujs mode must be one of auto, ${GPUJS_MODES.join(', ')}, got ${String(requested)}`);
    }
    const probe = await probeMode(requested);
    if (!probe.ok) {
      throw new SparselandError('E_BACKEND_UNAVAILABLE', `gpujs mode ${requested} cannot run here: ${probe.reason}`, {
        backend: 'gpujs',
        mode: requested,
        reason: probe.reason,
      });
    }
    return { probe, skipped: [] };
  }
  const skipped: ModeProbe[] = [];
  for (const mode of GPUJS_MODES) {
    const probe = await probeMode(mode);
    if (probe.ok) return { probe, skipped };
    skipped.push(probe);
  }
  throw new SparselandError(
    'E_BACKEND_UNAVAILABLE',
    `no gpujs mode can run here: ${skipped.map((p) => `${p.mode}: ${p.reason}`).join('; ')}`,
  );
}

/**
 * Creates the gpu.js backend. Throws E_BACKEND_UNAVAILABLE (naming the reason) when an explicitly requested mode
 * cannot run; `auto` says in `skipped` why it passed over the better modes.
 */
export async function createGpujsBackend(input: GpujsBackendOptions = {}): Promise<GpujsBackend> {
  // Strict: a misspelt option is refused by name instead of silently running with the default.
  const options = parseOptions(gpujsParams, input, 'the gpujs backend');
  const { probe, skipped } = await chooseMode(options.mode);
  const mode = probe.mode;
  const instance = new gpu.GPU({ mode });
  const cache = new KernelCache(instance, mode, options.kernelCacheLimit);
  const ctx = createContext(cache, mode, options.valueThreads ?? (GPU_MODES.includes(mode) ? DEFAULT_VALUE_THREADS : 0));
  let disposed = false;
  // Kernels own their output buffers, so calls must not interleave: every op waits for the previous one.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(op: () => Promise<T>): Promise<T> => {
    if (disposed) {
      return Promise.reject(new SparselandError('E_BACKEND_UNAVAILABLE', 'the gpujs backend was used after dispose(); create a new one'));
    }
    const next = queue.then(op, op);
    queue = next.catch(() => undefined);
    return next;
  };
  const live = (): void => {
    if (disposed) throw new SparselandError('E_BACKEND_UNAVAILABLE', 'the gpujs backend was used after dispose(); create a new one');
  };
  const backend: GpujsBackend = {
    name: 'gpujs',
    impl: mode,
    skipped,
    detail: probe.detail,
    attend: (input, opts) => serial(() => attend(ctx, input, opts)),
    decode: (input, opts) => serial(() => decode(ctx, input, opts)),
    decodePacked: (input, opts) => serial(() => decodePacked(ctx, input, opts)),
    pooledScores: (input, opts) => serial(() => pooledScores(ctx, input, opts)),
    lastQueriesAttention: (input, opts) => serial(() => lastQueriesAttention(ctx, input, opts)),
    lastQueriesSums: (input, opts) => serial(() => lastQueriesSums(ctx, input, opts)),
    quantizedScores: (input, opts) => serial(() => quantizedScores(ctx, input, opts)),
    scores: (input, opts) => serial(() => scores(ctx, input, opts)),
    // Matrix products run on the calling thread in plain JS (float64 sums): gpu.js's CPU modes are slower than that
    // (performance.md: 0.7 to 1.3 GFLOP/s), and its GPU modes would pay an upload and a readback per layer call.
    prepareLinear: async (weights, shape) => {
      live();
      return createHostLinear(weights, shape, live);
    },
    // Keys and values stay in JS memory; each decode gathers them and runs this backend's decode kernels.
    createKvStore: async (shape) => {
      live();
      return createHostKvStore(shape, (input, opts) => serial(() => decode(ctx, input, opts)), live);
    },
    kernelCount: () => cache.size,
    kernelsCompiled: () => cache.compiled,
    fallbacks: () => cache.fallbacks,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await queue;
      cache.dispose();
      await instance.destroy();
    },
  };
  return Object.freeze(backend);
}
