import { describe, expect, it } from 'vitest';
import { SparselandError } from '../errors.js';
import { BlockMask } from '../masks/block-mask.js';
import { createBlockMask } from '../masks/build-block-mask.js';
import { ColumnMask } from '../masks/column-mask.js';
import { causal } from '../masks/mask-mod.js';
import { TokenSelection } from '../masks/token-selection.js';
import { createHeadTensor, randomHeadTensor } from '../tensor/head-tensor.js';
import type { AttentionInput } from '../tensor/shape.js';
import { resolveAttendCall, resolveDecodeCall, resultInto } from './attend-call.js';

function input(qLength: number, kvLength: number, qHeads = 2, kvHeads = 1): AttentionInput {
  return {
    q: randomHeadTensor({ heads: qHeads, length: qLength, dim: 4, seed: 1 }),
    k: randomHeadTensor({ heads: kvHeads, length: kvLength, dim: 4, seed: 2 }),
    v: randomHeadTensor({ heads: kvHeads, length: kvLength, dim: 4, seed: 3 }),
  };
}

function rejection(call: () => unknown): { code: string; message: string } {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(SparselandError);
    return { code: (error as SparselandError).code, message: (error as Error).message };
  }
  throw new Error('the call was accepted');
}

describe('resolveAttendCall', () => {
  it('fills the defaults and qOffset, keeps the caller’s tensors', () => {
    const x = input(3, 10);
    const call = resolveAttendCall(x);
    expect(call.shape).toEqual({ heads: 2, kvHeads: 1, qLength: 3, kvLength: 10, dim: 4, qOffset: 7 });
    expect(call.input.qOffset).toBe(7);
    expect(call.input.q).toBe(x.q);
    expect([call.causal, call.scale, call.mask, call.scoreMod]).toEqual([true, 0.5, undefined, undefined]);
    const explicit = { ...x, qOffset: 2 };
    expect(resolveAttendCall(explicit).input).toBe(explicit);
  });

  it('normalises every mask form to a SparseMask for the call', () => {
    const x = input(8, 8);
    const shape = resolveAttendCall(x).shape;
    const blocks = createBlockMask(causal, shape, { blockQ: 4, blockK: 4 });
    expect(resolveAttendCall(x, { mask: blocks }).mask).toEqual({ blocks });
    const columns = ColumnMask.build(shape, 4, {}, (_h, _qb, out) => out.push(0));
    expect(resolveAttendCall(x, { mask: columns }).mask).toEqual({ columns });
    expect(resolveAttendCall(x, { mask: causal }).mask?.blocks).toBeInstanceOf(BlockMask);
  });

  it('rejects bad options with a code and a message that says what was expected', () => {
    const x = input(8, 8);
    expect(rejection(() => resolveAttendCall(x, { causal: 'no' as never }))).toEqual({
      code: 'E_PARAMS',
      message: '[E_PARAMS] causal must be a boolean (default true), got "no"',
    });
    expect(rejection(() => resolveAttendCall(x, { scoreMod: 2 as never }))).toEqual({
      code: 'E_PARAMS',
      message: '[E_PARAMS] scoreMod must be a function (score, h, qPos, kPos) => number, got 2',
    });
    expect(rejection(() => resolveAttendCall(x, { scale: -1 })).code).toBe('E_PARAMS');
    expect(rejection(() => resolveAttendCall(x, 5 as never))).toEqual({
      code: 'E_PARAMS',
      message: '[E_PARAMS] attend options must be an object, got 5',
    });
    const other = createBlockMask(causal, { heads: 2, qLength: 9, kvLength: 9, qOffset: 0 }, { blockQ: 4, blockK: 4 });
    expect(rejection(() => resolveAttendCall(x, { mask: other })).message).toMatch(/mask.blocks was built for qLength 9/);
    expect(rejection(() => resolveAttendCall(x, { mask: 'causal' as never })).code).toBe('E_SHAPE');
  });

  it('checks options.out: the output shape, a HeadTensor, no memory shared with the inputs', () => {
    const x = input(3, 10);
    const out = createHeadTensor(2, 3, 4);
    expect(resolveAttendCall(x, { out }).out).toBe(out);
    expect(rejection(() => resolveAttendCall(x, { out: createHeadTensor(2, 4, 4) }))).toEqual({
      code: 'E_SHAPE',
      message: '[E_SHAPE] attend out must be [2, 3, 4] (query heads, query length, dim), got [2, 4, 4]',
    });
    expect(rejection(() => resolveAttendCall(x, { out: { data: [1, 2], heads: 1, length: 1, dim: 2 } as never })).code).toBe('E_SHAPE');
    // A view over part of q's buffer overlaps; one over a separate buffer of the same size does not.
    const shared = new Float32Array(48);
    const q = createHeadTensor(2, 3, 4, shared.subarray(0, 24));
    const overlapping = createHeadTensor(2, 3, 4, shared.subarray(20, 44));
    expect(rejection(() => resolveAttendCall({ ...x, q }, { out: overlapping }))).toEqual({
      code: 'E_PARAMS',
      message: '[E_PARAMS] attend out must not share memory with q: pass a separate Float32Array',
    });
    const besides = createHeadTensor(2, 3, 4, shared.subarray(24, 48));
    expect(resolveAttendCall({ ...x, q }, { out: besides }).out).toBe(besides);
  });

  it('resultInto copies into out and returns it; without out the result is unchanged', () => {
    const result = { output: createHeadTensor(1, 2, 2, Float32Array.of(1, 2, 3, 4)), lse: Float32Array.of(0, 1) };
    expect(resultInto(undefined, result)).toBe(result);
    const out = createHeadTensor(1, 2, 2);
    const got = resultInto(out, result);
    expect(got.output).toBe(out);
    expect(Array.from(out.data)).toEqual([1, 2, 3, 4]);
    expect(got.lse).toBe(result.lse);
  });

  it('scans for NaN only when asked', () => {
    const x = input(2, 2);
    x.k.data[0] = Number.NaN;
    expect(() => resolveAttendCall(x)).not.toThrow();
    expect(rejection(() => resolveAttendCall(x, {}, { checkFinite: true })).code).toBe('E_NONFINITE');
  });
});

describe('resolveDecodeCall', () => {
  it('checks that the selection is a TokenSelection made for this cache', () => {
    const x = input(1, 6, 4, 2);
    const selection = TokenSelection.fromLists([[0, 5], [1]], 6);
    expect(resolveDecodeCall(x, { selection }).selection).toBe(selection);
    expect(resolveDecodeCall(x).selection).toBeUndefined();
    expect(rejection(() => resolveDecodeCall(x, { selection: TokenSelection.fromLists([[0]], 6) })).message).toBe(
      '[E_SHAPE] selection was made for 1 kv heads over 6 slots, but the cache has 2 kv heads and 6 slots',
    );
    expect(rejection(() => resolveDecodeCall(x, { selection: { kvHeads: 2 } as never }))).toEqual({
      code: 'E_SHAPE',
      message:
        '[E_SHAPE] decode selection must be a TokenSelection (TokenSelection.fromLists / TokenSelection.all), got an object with keys [kvHeads]',
    });
    expect(rejection(() => resolveDecodeCall(x, { causal: 0 as never })).code).toBe('E_PARAMS');
    expect(rejection(() => resolveDecodeCall(x, { scoreMod: {} as never })).code).toBe('E_PARAMS');
  });
});
