import {
  createBlockMask,
  type MaskShape,
  type PatternPlugin,
  referenceAttention,
  type SparseMask,
  sparseMaskToDense,
  toSparseMask,
} from '@sparseland/core';
import type { OnBackendCase, PluginCase } from './case.js';
import { type CaseShape, caseInputs, maskShapeOf } from './inputs.js';
import { FP32_TOLERANCE, firstMismatch, type Tolerance } from './tolerance.js';

/** Mask geometries the fast builder is checked on: odd sizes, chunked queries, one-token decode, 1 to 8 heads, layers. */
export const DEFAULT_PATTERN_SHAPES: readonly MaskShape[] = Object.freeze([
  { heads: 1, qLength: 1, kvLength: 1, qOffset: 0 },
  { heads: 4, qLength: 37, kvLength: 37, qOffset: 0 },
  { heads: 2, qLength: 100, kvLength: 100, qOffset: 0, layer: 1 },
  { heads: 4, qLength: 19, kvLength: 83, qOffset: 64, layer: 2 },
  { heads: 2, qLength: 1, kvLength: 130, qOffset: 129, layer: 3 },
  { heads: 8, qLength: 160, kvLength: 160, qOffset: 0 },
]);

/** Block sizes the fast builder is asked for. */
export const DEFAULT_PATTERN_BLOCK_SIZES: readonly { blockQ: number; blockK: number }[] = Object.freeze([
  { blockQ: 8, blockK: 8 },
  { blockQ: 16, blockK: 32 },
  { blockQ: 64, blockK: 64 },
]);

/** The geometry of one run of a pattern on a backend: Q/K/V shape, the layer, the block sizes of its mask. */
export interface PatternRunShape extends CaseShape {
  readonly layer?: number;
  readonly blockQ: number;
  readonly blockK: number;
}

/** Runs on a backend: odd length with GQA 4:2, a chunk in the middle of the cache, one-token decode, layer 1. */
export const DEFAULT_PATTERN_RUN_SHAPES: readonly PatternRunShape[] = Object.freeze([
  { qHeads: 4, kvHeads: 2, qLength: 37, kvLength: 37, dim: 8, blockQ: 16, blockK: 16 },
  { qHeads: 4, kvHeads: 1, qLength: 19, kvLength: 83, qOffset: 64, dim: 8, blockQ: 8, blockK: 16, layer: 2 },
  { qHeads: 2, kvHeads: 2, qLength: 1, kvLength: 130, qOffset: 129, dim: 8, blockQ: 16, blockK: 32, layer: 3 },
  { qHeads: 2, kvHeads: 1, qLength: 100, kvLength: 100, dim: 16, blockQ: 16, blockK: 32, layer: 1 },
]);

export interface PatternCaseOptions {
  /** Parameter sets checked besides the defaults (e.g. small windows that make partial blocks on tiny shapes). */
  readonly paramSets?: readonly Record<string, unknown>[];
  /** Mask geometries of the fast-builder checks (default DEFAULT_PATTERN_SHAPES). */
  readonly shapes?: readonly MaskShape[];
  /** Block sizes the fast builder is asked for (default DEFAULT_PATTERN_BLOCK_SIZES). */
  readonly blockSizes?: readonly { blockQ: number; blockK: number }[];
  /** Geometries of the runs on a backend (default DEFAULT_PATTERN_RUN_SHAPES). */
  readonly runShapes?: readonly PatternRunShape[];
  /** Tolerance of a backend's output against the float64 reference (default FP32_TOLERANCE). */
  readonly tolerance?: Partial<Tolerance>;
}

function labelOf(index: number, params: Record<string, unknown>): string {
  return index === 0 ? 'default params' : `params ${JSON.stringify(params)}`;
}

/** Dense 0/1 matrix of what a pattern's MaskMod keeps. */
function denseOfMaskMod(mod: (h: number, q: number, k: number) => boolean, shape: MaskShape): Uint8Array {
  const out = new Uint8Array(shape.heads * shape.qLength * shape.kvLength);
  for (let h = 0; h < shape.heads; h++) {
    for (let i = 0; i < shape.qLength; i++) {
      for (let k = 0; k < shape.kvLength; k++) out[(h * shape.qLength + i) * shape.kvLength + k] = mod(h, shape.qOffset + i, k) ? 1 : 0;
    }
  }
  return out;
}

function firstDifference(a: Uint8Array, b: Uint8Array, shape: MaskShape): string | undefined {
  for (let p = 0; p < a.length; p++) {
    if (a[p] !== b[p]) {
      const h = Math.floor(p / (shape.qLength * shape.kvLength));
      const i = Math.floor(p / shape.kvLength) % shape.qLength;
      return `head ${h}, query position ${shape.qOffset + i}, key ${p % shape.kvLength}: fast builder says ${a[p]}, maskMod says ${b[p]}`;
    }
  }
  return undefined;
}

/**
 * The pattern cases about the plugin alone, one per parameter set (the defaults first): the fast builder equals
 * the exact MaskMod on every shape and block size, it is deterministic, and a pattern that declares itself causal
 * never keeps a key after its query. A pattern without a MaskMod must at least have a ScoreMod.
 */
export function patternCases(plugin: PatternPlugin, options: PatternCaseOptions = {}): PluginCase[] {
  const shapes = options.shapes ?? DEFAULT_PATTERN_SHAPES;
  const blockSizes = options.blockSizes ?? DEFAULT_PATTERN_BLOCK_SIZES;
  const paramSets: Record<string, unknown>[] = [{}, ...(options.paramSets ?? [])];
  return paramSets.map((params, index) => {
    const label = labelOf(index, params);
    return {
      name: `${label}: the fast builder equals the MaskMod on every shape and block size; causal never looks ahead`,
      async run() {
        const instance = plugin.build(plugin.parseParams(params));
        for (const shape of shapes) {
          const where = `${plugin.name} ${label}, shape ${JSON.stringify(shape)}`;
          const mod = instance.maskMod?.(shape);
          if (!mod) {
            if (!instance.scoreMod) throw new Error(`${where}: a pattern without maskMod must at least have a scoreMod`);
            continue;
          }
          const exact = denseOfMaskMod(mod, shape);
          if (instance.causal) {
            for (let h = 0; h < shape.heads; h++) {
              for (let i = 0; i < shape.qLength; i++) {
                for (let k = shape.qOffset + i + 1; k < shape.kvLength; k++) {
                  if (exact[(h * shape.qLength + i) * shape.kvLength + k])
                    throw new Error(`${where}: declares causal but keeps key ${k} for query ${shape.qOffset + i} (head ${h})`);
                }
              }
            }
          }
          for (const sizes of blockSizes) {
            const built = instance.mask ? toSparseMask(instance.mask(shape, sizes), shape) : { blocks: createBlockMask(mod, shape, sizes) };
            const fast = sparseMaskToDense(built, shape);
            const diff = firstDifference(fast, exact, shape);
            if (diff) throw new Error(`${where}, blocks ${sizes.blockQ}×${sizes.blockK}: ${diff}`);
            if (instance.mask) {
              const again = sparseMaskToDense(toSparseMask(instance.mask(shape, sizes), shape), shape);
              if (firstDifference(again, fast, shape) !== undefined)
                throw new Error(`${where}, blocks ${sizes.blockQ}×${sizes.blockK}: the builder gave another mask the second time`);
            }
          }
        }
      },
    };
  });
}

/**
 * The pattern cases on a backend, one per parameter set: the mask the pattern builds (its fast builder, else
 * core's BlockMask of its MaskMod) and its ScoreMod run through the backend's `attend`, on odd sizes, GQA, a chunk
 * in the middle of the cache and one-token decode, and give the float64 reference attention of the exact MaskMod
 * (rows that keep no key: zeros and lse = -Infinity). A causal pattern runs in a causal call, any other in a
 * non-causal one, so the whole mask is seen.
 */
export function patternBackendCases(plugin: PatternPlugin, options: PatternCaseOptions = {}): OnBackendCase[] {
  const runShapes = options.runShapes ?? DEFAULT_PATTERN_RUN_SHAPES;
  const tolerance: Tolerance = { ...FP32_TOLERANCE, ...options.tolerance };
  const paramSets: Record<string, unknown>[] = [{}, ...(options.paramSets ?? [])];
  return paramSets.map((params, index) => {
    const label = labelOf(index, params);
    return {
      name: `${label}: attention through the pattern's mask on the backend equals the float64 reference of its MaskMod`,
      async run(backend) {
        const instance = plugin.build(plugin.parseParams(params));
        for (const [s, shape] of runShapes.entries()) {
          const where = `${plugin.name} ${label}, shape ${JSON.stringify(shape)}`;
          const geometry = { ...maskShapeOf(shape), ...(shape.layer === undefined ? {} : { layer: shape.layer }) };
          const sizes = { blockQ: shape.blockQ, blockK: shape.blockK };
          const mod = instance.maskMod?.(geometry);
          const mask: SparseMask | undefined = instance.mask
            ? instance.mask(geometry, sizes)
            : mod
              ? { blocks: createBlockMask(mod, geometry, sizes) }
              : undefined;
          const call = { causal: instance.causal, scoreMod: instance.scoreMod?.(geometry) };
          const input = caseInputs(shape, 17 + s);
          const want = referenceAttention(input, { ...call, mask: mod });
          const got = await backend.attend(input, { ...call, mask });
          const mismatch =
            firstMismatch(got.output.data, want.output.data, tolerance.atol, tolerance.rtol, 'output') ??
            firstMismatch(got.lse, want.lse, tolerance.lseAtol, 0, 'lse');
          if (mismatch) throw new Error(`${where}: ${mismatch}`);
        }
      },
    };
  });
}
