import { actualModeOf, type GpujsInstance, type GpujsKernel } from './gpujs.js';

/** How many compiled kernels one backend keeps before destroying the least recently used. */
export const DEFAULT_KERNEL_CACHE_LIMIT = 64;

/** gpu.js loops over non-constant bounds need a compile-time maximum; this one only guards, it never binds. */
const LOOP_GUARD = 1 << 24;

export interface KernelSpec {
  /** Kernel name plus everything baked in at compile time (the shape class), e.g. `scores|16x32|d64`. */
  readonly key: string;
  readonly source: (...args: never[]) => unknown;
  readonly constants?: Record<string, number>;
  /** Keep the output on the device for the next kernel (gpu.js pipelining). */
  readonly pipeline: boolean;
}

/**
 * Compiled gpu.js kernels of one backend, one per shape class. Sizes (lengths, heads, work items) are not part of
 * the class: every kernel is created with `dynamicOutput` and `dynamicArguments`, so a new sequence length reuses
 * it. Least recently used kernels beyond `limit` are destroyed, and so is everything on `dispose()`.
 */
export class KernelCache {
  private readonly kernels = new Map<string, GpujsKernel>();
  private readonly checked = new Set<string>();
  /** Kernels gpu.js ran in another mode than requested, with its reason (should stay empty). */
  readonly fallbacks: string[] = [];
  compiled = 0;

  constructor(
    private readonly gpu: GpujsInstance,
    private readonly mode: string,
    private readonly limit = DEFAULT_KERNEL_CACHE_LIMIT,
  ) {}

  get size(): number {
    return this.kernels.size;
  }

  /** Runs the kernel of `spec` over `output` ([x] or [x, y]) and resolves to its result (a texture when pipelined). */
  async run(spec: KernelSpec, output: number[], ...args: unknown[]): Promise<unknown> {
    const kernel = this.get(spec);
    kernel.setOutput(output);
    const result = await kernel(...args);
    if (!this.checked.has(spec.key)) {
      this.checked.add(spec.key);
      const ran = actualModeOf(kernel, this.mode);
      if (ran !== this.mode) this.fallbacks.push(`${spec.key}: ran in ${ran} (${kernel.kernel?.fallbackReason ?? 'no reason given'})`);
    }
    return result;
  }

  private get(spec: KernelSpec): GpujsKernel {
    const hit = this.kernels.get(spec.key);
    if (hit) {
      // Map order is recency order.
      this.kernels.delete(spec.key);
      this.kernels.set(spec.key, hit);
      return hit;
    }
    const kernel = this.gpu.createKernel(spec.source, {
      output: [1],
      constants: spec.constants ?? {},
      pipeline: spec.pipeline,
      // On the device, one output buffer per kernel, reused call after call: nothing to free per call, nothing to
      // leak. gpu.js 2.24.1's cpu mode cannot resize a reused pipeline output, and its results are plain JS arrays
      // anyway, so there each call gets fresh arrays.
      immutable: this.mode === 'cpu',
      dynamicOutput: true,
      dynamicArguments: true,
      precision: 'single',
      tactic: 'precision',
      loopMaxIterations: LOOP_GUARD,
    });
    this.compiled++;
    this.kernels.set(spec.key, kernel);
    if (this.kernels.size > this.limit) {
      const [oldest, evicted] = this.kernels.entries().next().value as [string, GpujsKernel];
      this.kernels.delete(oldest);
      this.checked.delete(oldest);
      evicted.destroy();
    }
    return kernel;
  }

  /** Destroys every kernel (and with them their output buffers and textures). */
  dispose(): void {
    for (const kernel of this.kernels.values()) kernel.destroy();
    this.kernels.clear();
    this.checked.clear();
  }
}
