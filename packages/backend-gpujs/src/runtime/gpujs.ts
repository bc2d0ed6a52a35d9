import gpujs from 'gpu.js';

/**
 * The slice of gpu.js this package uses, typed locally. gpu.js ships one CommonJS entry for Node (`src/index.js`,
 * which loads `gl` lazily) and a UMD browser build (`dist/gpu-browser.js`, its package.json `browser` field) that
 * bundlers pick for browser targets; both expose the same object, so a default import works in either.
 */
export interface GpujsKernel {
  (...args: unknown[]): unknown;
  setOutput(output: number[]): GpujsKernel;
  destroy(): void;
  /** The implementation behind the shortcut; differs from the requested mode when gpu.js fell back. */
  readonly kernel?: { readonly fallbackReason?: string | null; readonly constructor: unknown } | undefined;
}

export interface GpujsKernelSettings {
  readonly output: number[];
  readonly constants?: Record<string, number>;
  readonly pipeline?: boolean;
  readonly immutable?: boolean;
  readonly dynamicOutput?: boolean;
  readonly dynamicArguments?: boolean;
  readonly precision?: 'single';
  readonly tactic?: 'precision';
  readonly loopMaxIterations?: number;
  readonly argumentTypes?: Record<string, string>;
  readonly returnType?: string;
  readonly strictIntegers?: boolean;
}

export interface GpujsInstance {
  createKernel(fn: (...args: never[]) => unknown, settings: GpujsKernelSettings): GpujsKernel;
  destroy(): unknown;
  readonly kernels?: unknown[];
}

export interface GpujsStatic {
  new (settings: { mode: string }): GpujsInstance;
  readonly isWebGL2Supported: boolean;
  readonly isHeadlessGLSupported: boolean;
  readonly isWebAssemblySupported: boolean;
  readonly isSinglePrecisionSupported: boolean;
  readonly isWebGPUSupported: boolean;
  isWebGPUAvailable(): Promise<boolean>;
}

/** A gpu.js 2D input: a flat Float32Array viewed as [height][width]. */
export type GpujsInput = object;

export interface GpujsModule {
  readonly GPU: GpujsStatic;
  input(data: Float32Array, size: number[]): GpujsInput;
  readonly WebGL2Kernel: unknown;
  readonly HeadlessGLKernel: unknown;
  readonly WebGPUKernel: unknown;
  readonly WebAssemblyKernel: unknown;
  readonly CPUKernel: unknown;
}

export const gpu: GpujsModule = gpujs as unknown as GpujsModule;

/** The kernel class gpu.js uses for each of our modes, to check what actually ran. */
export function kernelClassOf(mode: string): unknown {
  switch (mode) {
    case 'webgpu':
      return gpu.WebGPUKernel;
    case 'webgl2':
      return gpu.WebGL2Kernel;
    case 'headlessgl':
      return gpu.HeadlessGLKernel;
    case 'webasm':
      return gpu.WebAssemblyKernel;
    default:
      return gpu.CPUKernel;
  }
}

/**
 * The mode a compiled kernel really runs in. gpu.js silently degrades some kernels (webasm → cpu for features it
 * lacks), so `impl` is checked against this rather than trusted.
 */
export function actualModeOf(kernel: GpujsKernel, requested: string): string {
  const inner = kernel.kernel;
  if (!inner) return requested;
  const wanted = kernelClassOf(requested) as abstract new (...a: never[]) => unknown;
  if (typeof wanted === 'function' && inner instanceof wanted) return requested;
  for (const mode of ['webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu']) {
    const cls = kernelClassOf(mode) as abstract new (...a: never[]) => unknown;
    if (typeof cls === 'function' && inner instanceof cls) return mode;
  }
  return 'unknown';
}
