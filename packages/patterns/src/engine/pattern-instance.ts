import { type MaskMod, type MaskShape, nameMask, type ScoreMod, SparselandError } from '@sparseland/core';
import { describeValue, type MaskBuildOptions, type PatternInstance } from '@sparseland/core/kit';
import { buildTermSparseMask, type TermLayout } from './build-term-mask.js';

/** What a pattern knows about one geometry: its exact MaskMod and its terms for the fast builder. */
export interface CompiledPattern {
  readonly maskMod: MaskMod;
  readonly layout: TermLayout;
}

/** Throws E_SHAPE unless `shape` is a MaskShape with positive lengths and heads and a non-negative offset. */
export function expectMaskShape(shape: unknown, who: string): MaskShape {
  const s = shape as Partial<MaskShape> | null;
  const ok =
    typeof s === 'object' &&
    s !== null &&
    isInt(s.heads, 1) &&
    isInt(s.qLength, 1) &&
    isInt(s.kvLength, 1) &&
    isInt(s.qOffset, 0) &&
    (s.layer === undefined || isInt(s.layer, 0));
  if (!ok) {
    const got = typeof s === 'object' && s !== null ? JSON.stringify(s) : describeValue(shape);
    throw new SparselandError(
      'E_SHAPE',
      `${who}: expected a shape {heads >= 1, qLength >= 1, kvLength >= 1, qOffset >= 0, layer? >= 0} of integers, got ${got}`,
    );
  }
  return s as MaskShape;
}

function expectBlockSizes(options: unknown, who: string): MaskBuildOptions {
  const o = options as Partial<MaskBuildOptions> | null;
  if (typeof o !== 'object' || o === null || !isInt(o.blockQ, 1) || !isInt(o.blockK, 1)) {
    throw new SparselandError(
      'E_PARAMS',
      `${who}: expected block sizes {blockQ >= 1, blockK >= 1} (integers), got ${describeValue(options)}`,
    );
  }
  return o as MaskBuildOptions;
}

function isInt(x: unknown, min: number): boolean {
  return typeof x === 'number' && Number.isInteger(x) && x >= min;
}

/**
 * A PatternInstance from a compile step: `maskMod(shape)` is the exact oracle, `mask(shape, sizes)` the fast
 * builder over the pattern's terms. Both validate the shape once.
 */
export function termPattern(
  name: string,
  causal: boolean,
  compile: (shape: MaskShape) => CompiledPattern,
  scoreMod?: (shape: MaskShape) => ScoreMod,
): PatternInstance {
  const instance: PatternInstance = {
    causal,
    maskMod(shape) {
      return nameMask(compile(expectMaskShape(shape, `${name}.maskMod`)).maskMod, name);
    },
    mask(shape, options) {
      const s = expectMaskShape(shape, `${name}.mask`);
      const sizes = expectBlockSizes(options, `${name}.mask`);
      const compiled = compile(s);
      return buildTermSparseMask(s, sizes, compiled.layout, nameMask(compiled.maskMod, name));
    },
  };
  if (scoreMod) return { ...instance, scoreMod: (shape) => nameMask(scoreMod(expectMaskShape(shape, `${name}.scoreMod`)), name) };
  return instance;
}

/** The last absolute position a call can name: queries reach qOffset + qLength − 1, keys kvLength − 1. */
export function sequenceLength(shape: MaskShape): number {
  return Math.max(shape.kvLength, shape.qOffset + shape.qLength);
}
