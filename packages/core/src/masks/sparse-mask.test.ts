import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbShape, denseOf, randomMaskMod, toMaskShape } from '../../test/helpers.js';
import { blockMaskFromScores } from './block-mask-from-scores.js';
import { createBlockMask } from './build-block-mask.js';
import { ColumnMask } from './column-mask.js';
import { causal } from './mask-mod.js';
import { mergeHeadMasks } from './merge-heads.js';
import { intersectMasks, sparseMaskToBlockMask, sparseMaskToDense, toSparseMask, unionMasks } from './sparse-mask.js';
import { TokenSelection } from './token-selection.js';

function randomColumns(shape: ReturnType<typeof toMaskShape>, blockQ: number, seed: number): ColumnMask {
  return ColumnMask.build(shape, blockQ, {}, (h, qb, out) => {
    for (let k = 0; k < shape.kvLength; k++) if ((k * 31 + qb * 17 + h * 7 + seed) % 5 === 0) out.push(k);
  });
}

const arbCase = fc.tuple(arbShape, fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 9 }));

describe('SparseMask', () => {
  it('keeps blocks ∪ columns, each key once, and causal clipping applies to both', () => {
    fc.assert(
      fc.property(arbCase, ([s, seed, kind, cq]) => {
        const shape = toMaskShape(s);
        const blocks = createBlockMask(randomMaskMod(seed, kind), shape, s);
        const columns = randomColumns(shape, cq, seed);
        const dense = sparseMaskToDense({ blocks, columns }, shape, { causal: true });
        const db = blocks.toDense({ causal: true });
        const dc = columns.toDense({ causal: true });
        expect(Array.from(dense)).toEqual(Array.from(db, (v, p) => v | (dc[p] as number)));
      }),
      { numRuns: 80 },
    );
  });

  it('union and intersection of SparseMasks with columns equal OR / AND of their dense forms', () => {
    fc.assert(
      fc.property(arbCase, fc.integer({ min: 0, max: 1e9 }), ([s, seed, kind, cq], seed2) => {
        const shape = toMaskShape(s);
        const a = { blocks: createBlockMask(randomMaskMod(seed, kind), shape, s), columns: randomColumns(shape, cq, seed) };
        const b = { blocks: createBlockMask(randomMaskMod(seed2, kind + 1), shape, s), columns: randomColumns(shape, cq, seed2) };
        const da = sparseMaskToDense(a, shape);
        const db = sparseMaskToDense(b, shape);
        expect(Array.from(sparseMaskToDense(unionMasks(a, b), shape))).toEqual(Array.from(da, (v, p) => v | (db[p] as number)));
        expect(Array.from(sparseMaskToDense(intersectMasks(a, b), shape))).toEqual(Array.from(da, (v, p) => v & (db[p] as number)));
        expect(Array.from(sparseMaskToBlockMask(a, shape).toDense())).toEqual(Array.from(da));
      }),
      { numRuns: 60 },
    );
  });

  it('toSparseMask accepts every form and rejects a mask built for another shape', () => {
    const shape = { heads: 2, qLength: 6, kvLength: 6, qOffset: 0 };
    const blocks = createBlockMask(causal, shape, { blockQ: 2, blockK: 2 });
    expect(toSparseMask(blocks, shape).blocks).toBe(blocks);
    expect(toSparseMask(causal, shape, { blockQ: 3, blockK: 3 }).blocks?.blockQ).toBe(3);
    const cols = ColumnMask.build(shape, 2, {}, (_h, _qb, out) => out.push(0));
    expect(toSparseMask(cols, shape).columns).toBe(cols);
    expect(() => toSparseMask(blocks, { ...shape, kvLength: 7 })).toThrow(/E_SHAPE.*kvLength 6.*kvLength 7/);
    expect(() => toSparseMask({ blocks, extra: 1 } as never, shape)).toThrow(/E_SHAPE.*SparseMask/);
    expect(() => toSparseMask(createBlockMask(causal, { ...shape, heads: 3 }), shape)).toThrow(/3 heads/);
  });
});

describe('ColumnMask', () => {
  it('rejects unsorted or out-of-range columns', () => {
    const base = { heads: 1, qLength: 4, kvLength: 4, qOffset: 0, blockQ: 4 };
    expect(() => new ColumnMask({ ...base, rowPtr: Int32Array.of(0, 2), cols: Int32Array.of(2, 1) })).toThrow(/strictly increasing/);
    expect(() => new ColumnMask({ ...base, rowPtr: Int32Array.of(0, 1), cols: Int32Array.of(9) })).toThrow(/outside \[0, 4\)/);
  });
});

describe('blockMaskFromScores', () => {
  const shape = { heads: 1, qLength: 4, kvLength: 8, qOffset: 4 };
  const scores = {
    kind: 'blocks' as const,
    data: Float32Array.of(0.125, 0.5, 0.25, 0.125, -Infinity, 3, 1, 0),
    heads: 1,
    qBlocks: 2,
    kBlocks: 4,
    blockQ: 2,
    blockK: 2,
  };
  const rows = (m: ReturnType<typeof blockMaskFromScores>) => [Array.from(m.fullBlocks(0, 0)), Array.from(m.fullBlocks(0, 1))];

  it('top-k keeps the k best blocks, ties to the lower index, never -Infinity', () => {
    expect(rows(blockMaskFromScores(scores, shape, { topK: 2 }))).toEqual([
      [1, 2],
      [1, 2],
    ]);
    expect(rows(blockMaskFromScores(scores, shape, { topK: 9 }))).toEqual([
      [0, 1, 2, 3],
      [1, 2, 3],
    ]);
  });

  it('threshold keeps blocks scoring at least the threshold', () => {
    expect(rows(blockMaskFromScores(scores, shape, { threshold: 0.2 }))).toEqual([
      [1, 2],
      [1, 2],
    ]);
  });

  it('cumulative keeps the fewest blocks reaching the mass fraction', () => {
    // Row 0 masses 0.125, 0.5, 0.25, 0.125 (total 1): 0.75 needs blocks 1 and 2. Row 1: 3 of 4 is block 1 alone.
    expect(rows(blockMaskFromScores(scores, shape, { cumulative: 0.75 }))).toEqual([[1, 2], [1]]);
    expect(rows(blockMaskFromScores(scores, shape, { cumulative: 1 }))).toEqual([
      [0, 1, 2, 3],
      [1, 2],
    ]);
  });

  it('needs exactly one rule and a matching tiling', () => {
    expect(() => blockMaskFromScores(scores, shape, { topK: 1, threshold: 2 } as never)).toThrow(/E_PARAMS.*exactly one/);
    expect(() => blockMaskFromScores(scores, { ...shape, kvLength: 20 }, { topK: 1 })).toThrow(/E_SHAPE/);
    expect(() => blockMaskFromScores(scores, shape, { cumulative: 2 })).toThrow(/E_PARAMS.*cumulative/);
  });
});

describe('mergeHeadMasks', () => {
  it('takes each head from its group and makes dense heads fully kept', () => {
    const shape = { heads: 3, qLength: 8, kvLength: 8, qOffset: 0 };
    const sizes = { blockQ: 4, blockK: 4 };
    const local = { blocks: createBlockMask((_h, q, k) => q - k < 2 && k <= q, shape, sizes) };
    const merged = mergeHeadMasks(
      shape,
      [
        { mask: local, heads: [0, 2] },
        { mask: 'dense', heads: [1] },
      ],
      sizes,
    );
    const dense = sparseMaskToDense(merged, shape, { causal: true });
    const expected = denseOf((h, q, k) => k <= q && (h === 1 || q - k < 2), shape);
    expect(Array.from(dense)).toEqual(Array.from(expected));
  });
});

describe('TokenSelection', () => {
  it('sorts and de-duplicates lists, and validates slots', () => {
    const sel = TokenSelection.fromLists([[5, 1, 1, 3], []], 6);
    expect(Array.from(sel.slotsOf(0))).toEqual([1, 3, 5]);
    expect(sel.slotsOf(1).length).toBe(0);
    expect(() => TokenSelection.fromLists([[7]], 6)).toThrow(/E_SHAPE.*outside the cache/);
    expect(
      () =>
        new TokenSelection({ kvHeads: 1, kvLength: 4, rowPtr: Int32Array.of(0, 1), slots: Int32Array.of(0), precision: Uint8Array.of(3) }),
    ).toThrow(/32, 16, 8, 4 or 2/);
  });
});
