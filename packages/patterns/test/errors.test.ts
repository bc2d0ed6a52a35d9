import { isSparselandError, type PatternPlugin } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { bigbird, fixed, moa, neighborhood, relativeBias, slidingWindow } from '../src/index.js';

function expectError(f: () => unknown, code: string, message: RegExp): void {
  try {
    f();
  } catch (error) {
    expect(isSparselandError(error), String(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    expect((error as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected ${code}`);
}

const shape = { heads: 2, qLength: 40, kvLength: 40, qOffset: 0 };
const build = (plugin: PatternPlugin, params: unknown) => plugin.build(plugin.parseParams(params));

describe('bad input gets a SparselandError saying what was expected', () => {
  it('parameters are checked once, naming the field', () => {
    expectError(() => slidingWindow.parseParams({ window: 0 }), 'E_PARAMS', /window/);
    expectError(() => slidingWindow.parseParams({ window: 4, size: 2 }), 'E_PARAMS', /size/);
    expectError(() => fixed.parseParams({ stride: 8, summary: 9 }), 'E_PARAMS', /summary must be <= stride/);
    expectError(() => bigbird.parseParams({ windowBlocks: 2 }), 'E_PARAMS', /windowBlocks must be odd/);
    expectError(() => neighborhood.parseParams({ kernelSize: 3, stride: 4 }), 'E_PARAMS', /stride 4 exceeds kernelSize 3/);
    expectError(() => neighborhood.parseParams({ grid: [0, 8], kernelSize: [3, 3, 3] }), 'E_PARAMS', /expected 2 values/);
    expectError(() => moa.parseParams({ alpha: 'wide' }), 'E_PARAMS', /alpha/);
    expectError(() => relativeBias.parseParams({ buckets: 4, bias: [0, -1] }), 'E_PARAMS', /one bias per bucket \(4\), got 2/);
  });

  it('shapes and block sizes are checked at the builder boundary', () => {
    const instance = build(slidingWindow, {});
    expectError(() => instance.mask?.({ ...shape, qLength: 0 }, { blockQ: 8, blockK: 8 }), 'E_SHAPE', /qLength >= 1/);
    expectError(() => instance.maskMod?.({ heads: 1 } as never), 'E_SHAPE', /expected a shape/);
    expectError(() => instance.mask?.(shape, { blockQ: 0, blockK: 8 }), 'E_PARAMS', /blockQ >= 1/);
  });

  it('a grid too small for the sequence is an E_SHAPE that suggests the fix', () => {
    const instance = build(neighborhood, { grid: [4, 4], kernelSize: 3 });
    expectError(() => instance.mask?.(shape, { blockQ: 8, blockK: 8 }), 'E_SHAPE', /holds 16 tokens.*leading 0/);
  });
});
