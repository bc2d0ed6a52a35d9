import {
  createBlockMask,
  type MaskShape,
  type PatternPlugin,
  paramsJsonSchema,
  referenceAttention,
  sparseMaskToDense,
  toSparseMask,
} from '@sparseland/core';
import { expect, describe as vitestDescribe, it as vitestIt } from 'vitest';
import { caseInputs } from './inputs.js';

export interface DescribePatternOptions {
  /** Parameter sets to check besides the defaults (e.g. small windows that make partial blocks on tiny shapes). */
  readonly paramSets?: readonly Record<string, unknown>[];
  /** Shapes to check (default: odd sizes, chunked queries, one-token decode, 1 and 4 heads). */
  readonly shapes?: readonly MaskShape[];
  /** Block sizes the fast builder is asked for (default 8×8, 16×32, 64×64). */
  readonly blockSizes?: readonly { blockQ: number; blockK: number }[];
}

export const DEFAULT_PATTERN_SHAPES: readonly MaskShape[] = Object.freeze([
  { heads: 1, qLength: 1, kvLength: 1, qOffset: 0 },
  { heads: 4, qLength: 37, kvLength: 37, qOffset: 0 },
  { heads: 2, qLength: 100, kvLength: 100, qOffset: 0, layer: 1 },
  { heads: 4, qLength: 19, kvLength: 83, qOffset: 64, layer: 2 },
  { heads: 2, qLength: 1, kvLength: 130, qOffset: 129, layer: 3 },
  { heads: 8, qLength: 160, kvLength: 160, qOffset: 0 },
]);

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
 * Registers a vitest suite for a pattern plugin: metadata and params schema, the fast builder equal to its exact
 * MaskMod on odd shapes and several block sizes, no look-ahead when the pattern declares itself causal, determinism,
 * and a reference attention run on the mask.
 */
export function describePattern(plugin: PatternPlugin, options: DescribePatternOptions = {}): void {
  const shapes = options.shapes ?? DEFAULT_PATTERN_SHAPES;
  const blockSizes = options.blockSizes ?? [
    { blockQ: 8, blockK: 8 },
    { blockQ: 16, blockK: 32 },
    { blockQ: 64, blockK: 64 },
  ];
  const paramSets: Record<string, unknown>[] = [{}, ...(options.paramSets ?? [])];
  vitestDescribe(`conformance: pattern ${plugin.name}`, () => {
    vitestIt('has a name, a summary, a cited paper and a JSON-describable params schema with defaults', () => {
      expect(plugin.kind).toBe('pattern');
      expect(plugin.summary.length).toBeGreaterThan(10);
      expect(plugin.paper?.title.length ?? 0).toBeGreaterThan(0);
      expect(plugin.paper?.url ?? '').toMatch(/^https?:\/\//);
      const schema = paramsJsonSchema(plugin.params);
      expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
      expect(() => plugin.parseParams({})).not.toThrow();
    });

    paramSets.forEach((paramSet, index) => {
      const label = index === 0 ? 'default params' : `params ${JSON.stringify(paramSet)}`;
      vitestIt(`${label}: the fast builder equals the MaskMod on every shape and block size; causal never looks ahead`, () => {
        const instance = plugin.build(plugin.parseParams(paramSet));
        for (const shape of shapes) {
          const mod = instance.maskMod?.(shape);
          if (!mod) {
            expect(instance.scoreMod, 'a pattern without maskMod must at least have a scoreMod').toBeDefined();
            continue;
          }
          const exact = denseOfMaskMod(mod, shape);
          if (instance.causal) {
            for (let h = 0; h < shape.heads; h++) {
              for (let i = 0; i < shape.qLength; i++) {
                for (let k = shape.qOffset + i + 1; k < shape.kvLength; k++) {
                  if (exact[(h * shape.qLength + i) * shape.kvLength + k]) {
                    throw new Error(`${plugin.name} declares causal but keeps key ${k} for query ${shape.qOffset + i} (head ${h})`);
                  }
                }
              }
            }
          }
          for (const sizes of blockSizes) {
            const built = instance.mask ? toSparseMask(instance.mask(shape, sizes), shape) : { blocks: createBlockMask(mod, shape, sizes) };
            const fast = sparseMaskToDense(built, shape);
            const diff = firstDifference(fast, exact, shape);
            if (diff)
              throw new Error(`${plugin.name} ${label}, shape ${JSON.stringify(shape)}, blocks ${sizes.blockQ}×${sizes.blockK}: ${diff}`);
            if (instance.mask) {
              const again = sparseMaskToDense(toSparseMask(instance.mask(shape, sizes), shape), shape);
              expect(firstDifference(again, fast, shape), 'the builder must be deterministic').toBeUndefined();
            }
          }
        }
      });
    });

    vitestIt('runs through the reference attention (rows with no key give zeros)', () => {
      const instance = plugin.build(plugin.parseParams({}));
      const shape = { heads: 4, qLength: 48, kvLength: 48, qOffset: 0 };
      const input = caseInputs({ qHeads: 4, kvHeads: 2, qLength: 48, kvLength: 48, dim: 8 }, 3);
      const mod = instance.maskMod?.(shape);
      const mask = instance.mask ? instance.mask(shape, { blockQ: 16, blockK: 16 }) : mod;
      const result = referenceAttention(input, { mask, scoreMod: instance.scoreMod?.(shape) });
      for (let r = 0; r < 4 * 48; r++) {
        const lse = result.lse[r] as number;
        if (lse === -Infinity) {
          expect(Array.from(result.output.data.subarray(r * 8, r * 8 + 8)).every((x) => x === 0)).toBe(true);
        } else expect(Number.isFinite(lse)).toBe(true);
      }
    });
  });
}
