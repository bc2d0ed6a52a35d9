import type { ScoreMod } from '@sparseland/core';
import { runJob } from './driver/run-job.js';
import type { Kernels } from './kernels.js';
import { Arena, createBufferMemory, createWasmMemory, Layout, type WorkMemory } from './memory.js';
import { paddedDim, scratchFloats } from './scratch-layout.js';
import { WorkerPool } from './threads/worker-pool.js';
import { createTsKernels } from './ts-kernels.js';
import { kernelModule, loadKernels, type SimdVariant } from './wasm/wasm-module.js';

export type CpuImpl = 'wasm' | 'ts';
/** Which kernel build runs: 'relaxed' or 'simd128' (WebAssembly), 'none' (TypeScript). */
export type CpuSimd = SimdVariant | 'none';

export interface ExecutorOptions {
  readonly impl: CpuImpl;
  /** The WebAssembly build (ignored for impl 'ts'). */
  readonly simd: SimdVariant;
  readonly threads: number;
  /** Jobs with fewer multiply-adds run on the calling thread (a worker round trip costs about 0.1 ms). */
  readonly minParallelWork: number;
  readonly shared: boolean;
  readonly node: boolean;
}

/**
 * Owns the memory, the calling thread's kernels and the worker pool, and runs jobs: on the calling thread when
 * they are small, carry a ScoreMod (a JS function only this thread has) or threads = 1; on the workers otherwise.
 * Calls are serialised: one job's layout owns the memory until it is read back.
 */
export class Executor {
  readonly impl: CpuImpl;
  readonly threads: number;
  readonly memory: WorkMemory;
  /** Prepared weights and KV stores (see Arena): allocate and free only inside `exclusive`. */
  readonly arena = new Arena();
  private readonly kernels: Kernels;
  private readonly options: ExecutorOptions;
  private pool: Promise<WorkerPool> | undefined;
  /** Calls waiting for the memory, oldest first, while one runs (`running`). */
  private readonly waiting: (() => void)[] = [];
  private running = false;
  private disposed = false;

  private constructor(options: ExecutorOptions, memory: WorkMemory, kernels: Kernels) {
    this.options = options;
    this.impl = options.impl;
    this.threads = options.threads;
    this.memory = memory;
    this.kernels = kernels;
  }

  static async create(options: ExecutorOptions): Promise<Executor> {
    if (options.impl === 'wasm') {
      const memory = createWasmMemory(options.shared);
      const { kernels } = await loadKernels(options.simd, options.shared, memory.wasm as WebAssembly.Memory);
      return new Executor(options, memory, kernels);
    }
    const memory = createBufferMemory(options.shared);
    return new Executor(options, memory, createTsKernels(memory.views));
  }

  /**
   * Runs `fn` after every earlier call has finished. When a call finishes, the next waiting one is started (its
   * inputs written, its job handed to the threads) before the finished call's caller resumes: that caller's own
   * JavaScript (an estimator reading its result and preparing its next call) then runs while the threads compute
   * the next job, instead of holding it back.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        let result: Promise<T>;
        try {
          result = fn();
        } catch (error) {
          result = Promise.reject(error);
        }
        result.then(
          (value) => {
            this.startNext();
            resolve(value);
          },
          (error: unknown) => {
            this.startNext();
            reject(error);
          },
        );
      };
      if (this.running) this.waiting.push(start);
      else {
        this.running = true;
        // A call on an idle executor starts after its caller's synchronous code, as an awaited call would.
        queueMicrotask(start);
      }
    });
  }

  /** Starts the oldest waiting call, or marks the executor idle. */
  private startNext(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running = false;
  }

  /** A layout for one call, above everything the arena holds. */
  layout(): Layout {
    return new Layout(this.arena.top);
  }

  /** Reserves `floats` elements in the arena (the memory grows to hold them) and returns their index. */
  hold(floats: number): number {
    const at = this.arena.alloc(floats);
    this.memory.ensure(this.arena.top);
    return at;
  }

  /**
   * Reserves one scratch area per worker plus one for the calling thread (the last), each with `extraFloats` more
   * after the kernel scratch (for ops that keep per-thread state, at scr + scratchFloats(dp)).
   */
  reserveScratch(layout: Layout, dim: number, extraFloats = 0): number[] {
    const floats = scratchFloats(paddedDim(dim)) + extraFloats;
    return Array.from({ length: this.threads + 1 }, () => layout.alloc(floats));
  }

  /** Starts the worker threads now instead of at the first large job. */
  async warmUp(): Promise<void> {
    if (this.threads > 1) await this.workers();
  }

  private workers(): Promise<WorkerPool> {
    if (!this.pool) {
      const init =
        this.impl === 'wasm'
          ? {
              type: 'init' as const,
              impl: 'wasm' as const,
              module: kernelModule(this.options.simd, true),
              memory: this.memory.wasm as WebAssembly.Memory,
            }
          : { type: 'init' as const, impl: 'ts' as const, buffer: this.memory.views.f32.buffer };
      this.pool = WorkerPool.start(this.threads, init, this.options.node);
      this.pool.catch(() => {
        this.pool = undefined;
      });
    }
    return this.pool;
  }

  /** True when a job of `work` multiply-adds (without a ScoreMod) runs on the calling thread. */
  runsInline(work: number): boolean {
    return this.threads === 1 || work < this.options.minParallelWork;
  }

  /**
   * Runs the job on the worker threads (or inline, for small work and ScoreMods). `meanwhile` runs on the calling
   * thread while the threads compute (after an inline run): where a call allocates its result arrays, so their
   * fresh pages are mapped in that time (see `PendingResult`).
   */
  async run(job: number, scratch: readonly number[], work: number, scoreMod?: ScoreMod, meanwhile?: () => void): Promise<void> {
    if (this.disposed) throw new Error('cpu backend used after dispose()');
    if (scoreMod || this.runsInline(work)) {
      runJob(this.kernels, this.memory.views, job, scratch[this.threads] as number, scoreMod);
      meanwhile?.();
      return;
    }
    const pool = await this.workers();
    try {
      await pool.run(job, scratch, this.impl === 'ts' ? this.memory.views.f32.buffer : undefined, meanwhile);
    } catch (error) {
      // A failed worker leaves the pool in an unknown state: start a fresh one next time.
      this.pool = undefined;
      await pool.terminate();
      throw error;
    }
  }

  /** True once dispose() ran. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await (await pool.catch(() => undefined))?.terminate();
  }
}
