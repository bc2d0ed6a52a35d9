/**
 * What `this` is inside a gpu.js kernel function. Kernel functions are plain `function` expressions: gpu.js reads
 * their source text and translates it to WGSL, GLSL, WebAssembly or JS, so they may only use numbers, arrays,
 * `Math`, `this.thread` and `this.constants` (no closures, no calls into our code).
 */
export interface KernelThis<C = TileConstants> {
  readonly thread: { readonly x: number; readonly y: number; readonly z: number };
  readonly constants: C;
}

/** Constants of the attention kernels: the shape class they are compiled for. */
export interface TileConstants {
  readonly tileQ: number;
  readonly tileK: number;
  readonly dim: number;
}

/** Constants of kernels that only know the head dim. */
export interface DimConstants {
  readonly dim: number;
}

/*
 * Integer division in kernels is written `Math.floor((a + 0.5) / b)`: GPUs divide floats approximately (WGSL allows
 * 2.5 ULP, GL drivers are known to return 2.999… for 9 / 3), which can drop an exact quotient by one under a plain
 * floor; the half keeps the true quotient at least 0.5 / b away from an integer (exact for a below ~1.6M).
 */

/** A 2D kernel argument: `[row][column]`. */
export type Grid = readonly (readonly number[])[];

/** A 1D kernel argument. */
export type Line = readonly number[];

/**
 * Value kernels write for a pair that is not computed. gpu.js has no portable ±Infinity literal, so "masked" is any
 * value at or below MASKED_BELOW; the host turns it into -Infinity.
 */
export const MASKED = -1e30;
export const MASKED_BELOW = -1e29;
