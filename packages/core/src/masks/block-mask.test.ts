import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ArbShape, arbShape, denseOf, randomMaskMod, toMaskShape } from '../../test/helpers.js';
import { BlockMask, BlockState, causalPairsInBox } from './block-mask.js';
import { intersectBlockMasks, unionBlockMasks } from './block-mask-algebra.js';
import { blockMaskFromDense, buildBlockMask, createBlockMask } from './build-block-mask.js';
import { causal } from './mask-mod.js';

const arbCase = fc.tuple(arbShape, fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 4 }));

describe('createBlockMask', () => {
  it('classifies every block exactly: full iff all in-range pairs kept, partial iff some, empty iff none', () => {
    fc.assert(
      fc.property(arbCase, ([s, seed, kind]: [ArbShape, number, number]) => {
        const shape = toMaskShape(s);
        const mod = randomMaskMod(seed, kind);
        const mask = createBlockMask(mod, shape, { blockQ: s.blockQ, blockK: s.blockK });
        const dense = denseOf(mod, shape);
        for (let h = 0; h < shape.heads; h++) {
          for (let qb = 0; qb < mask.qBlocks; qb++) {
            for (let kb = 0; kb < mask.kBlocks; kb++) {
              let kept = 0;
              let all = 0;
              for (let i = qb * s.blockQ; i < Math.min(shape.qLength, (qb + 1) * s.blockQ); i++) {
                for (let k = kb * s.blockK; k < Math.min(shape.kvLength, (kb + 1) * s.blockK); k++) {
                  all++;
                  kept += dense[(h * shape.qLength + i) * shape.kvLength + k] as number;
                }
              }
              const expected = kept === 0 ? BlockState.empty : kept === all ? BlockState.full : BlockState.partial;
              expect(mask.blockState(h, qb, kb)).toBe(expected);
            }
          }
        }
        expect(Array.from(mask.toDense())).toEqual(Array.from(dense));
      }),
      { numRuns: 150 },
    );
  });

  it('broadcast evaluates head 0 once and serves every head', () => {
    const shape = { heads: 4, qLength: 10, kvLength: 10, qOffset: 0 };
    const mask = createBlockMask(causal, shape, { blockQ: 4, blockK: 4, broadcast: true });
    expect(mask.heads).toBe(1);
    expect(mask.contains(3, 9, 2)).toBe(true);
    expect(mask.contains(3, 2, 9)).toBe(false);
    expect(mask.toDense({ heads: 4 }).length).toBe(400);
  });

  it('draws the block picture used by golden tests', () => {
    const mask = createBlockMask(causal, { heads: 1, qLength: 8, kvLength: 8, qOffset: 0 }, { blockQ: 2, blockK: 2 });
    expect(mask.toString()).toBe(['BlockMask heads=1 q=8 kv=8 qOffset=0 block=2x2', '+...', '#+..', '##+.', '###+'].join('\n'));
  });
});

describe('union and intersection', () => {
  it('equal the element-wise OR / AND of the dense forms', () => {
    fc.assert(
      fc.property(arbCase, fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 4 }), ([s, seedA, kindA], seedB, kindB) => {
        const shape = toMaskShape(s);
        const sizes = { blockQ: s.blockQ, blockK: s.blockK };
        const modA = randomMaskMod(seedA, kindA);
        const modB = randomMaskMod(seedB, kindB);
        const a = createBlockMask(modA, shape, sizes);
        const b = createBlockMask(modB, shape, sizes);
        const da = a.toDense();
        const db = b.toDense();
        const u = unionBlockMasks(a, b).toDense();
        const x = intersectBlockMasks(a, b).toDense();
        expect(Array.from(u)).toEqual(Array.from(da, (v, p) => v | (db[p] as number)));
        expect(Array.from(x)).toEqual(Array.from(da, (v, p) => v & (db[p] as number)));
      }),
      { numRuns: 120 },
    );
  });

  it('broadcasts a one-head mask against a many-head mask', () => {
    const shape = { heads: 3, qLength: 9, kvLength: 9, qOffset: 0 };
    const shared = createBlockMask(causal, shape, { blockQ: 3, blockK: 3, broadcast: true });
    const perHead = createBlockMask((h, _q, k) => k % 3 === h, shape, { blockQ: 3, blockK: 3 });
    const u = unionBlockMasks(shared, perHead);
    expect(u.heads).toBe(3);
    expect(u.contains(2, 0, 8)).toBe(true);
    expect(u.contains(2, 0, 7)).toBe(false);
    expect(u.contains(0, 5, 4)).toBe(true);
  });

  it('refuses masks of different geometry', () => {
    const a = createBlockMask(causal, { heads: 1, qLength: 8, kvLength: 8, qOffset: 0 }, { blockQ: 2, blockK: 2 });
    const b = createBlockMask(causal, { heads: 1, qLength: 8, kvLength: 8, qOffset: 0 }, { blockQ: 4, blockK: 2 });
    expect(() => unionBlockMasks(a, b)).toThrow(/E_SHAPE.*block sizes/);
  });
});

describe('BlockMask', () => {
  it('rejects malformed CSR with E_SHAPE', () => {
    const base = { heads: 1, qLength: 4, kvLength: 4, qOffset: 0, blockQ: 2, blockK: 2 };
    const rows = (cols: number[], ptr: number[]) => ({ rowPtr: Int32Array.from(ptr), cols: Int32Array.from(cols) });
    expect(() => new BlockMask({ ...base, full: rows([1, 0], [0, 2, 2]), partial: rows([], [0, 0, 0]) })).toThrow(/strictly increasing/);
    expect(() => new BlockMask({ ...base, full: rows([5], [0, 1, 1]), partial: rows([], [0, 0, 0]) })).toThrow(/outside \[0, 2\)/);
    expect(() => new BlockMask({ ...base, full: rows([0], [0, 1, 1]), partial: rows([0], [0, 1, 1]), maskMod: causal })).toThrow(
      /both full and partial/,
    );
    expect(() => new BlockMask({ ...base, full: rows([], [0, 0, 0]), partial: rows([0], [0, 1, 1]) })).toThrow(/need a maskMod/);
    expect(() => new BlockMask({ ...base, full: rows([], [0, 0]), partial: rows([], [0, 0, 0]) })).toThrow(/3 entries/);
  });

  it('block density counts clipped block areas (FlexAttention sparsity)', () => {
    // 5×5 with 2×2 blocks: blocks on the diagonal are kept.
    const mask = buildBlockMask({ heads: 1, qLength: 5, kvLength: 5, qOffset: 0 }, { blockQ: 2, blockK: 2 }, {}, (_h, qb, full) =>
      full.push(qb),
    );
    expect(mask.density()).toBeCloseTo((4 + 4 + 1) / 25, 12);
    expect(mask.density({ causal: true })).toBeCloseTo((3 + 3 + 1) / 15, 12);
  });

  it('causalPairsInBox matches a brute-force count', () => {
    fc.assert(
      fc.property(fc.nat(30), fc.nat(30), fc.nat(30), fc.nat(30), (a, b, c, d) => {
        const [q0, q1] = [Math.min(a, b), Math.max(a, b)];
        const [k0, k1] = [Math.min(c, d), Math.max(c, d)];
        let n = 0;
        for (let q = q0; q < q1; q++) for (let k = k0; k < k1; k++) if (k <= q) n++;
        expect(causalPairsInBox(q0, q1, k0, k1)).toBe(n);
      }),
    );
  });

  it('round-trips through a dense matrix', () => {
    const shape = { heads: 2, qLength: 7, kvLength: 11, qOffset: 4 };
    const dense = new Uint8Array(2 * 7 * 11).map((_, i) => ((i * 7919) % 3 === 0 ? 1 : 0));
    expect(Array.from(blockMaskFromDense(dense, shape, { blockQ: 3, blockK: 4 }).toDense())).toEqual(Array.from(dense));
  });
});
