import { type AttentionShape, ColumnMask, kvHeadOf, type SparseMask, sparseMaskToDense, TokenSelection } from '@sparseland/core';
import { buildBlockMask, createRng } from '@sparseland/core/kit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { densePlan } from '../src/plan/dense-plan.js';
import { maskPlan } from '../src/plan/mask-plan.js';
import { selectionPlan } from '../src/plan/selection-plan.js';
import { ITEM_FIELDS, type WorkPlan } from '../src/plan/work-plan.js';

/**
 * The pairs a plan makes the kernels compute, decided exactly as blockScoresKernel decides them (row in range, key in
 * range, causal, bitmap), counting how often each pair is visited: a correct plan visits each kept pair once.
 */
function visits(plan: WorkPlan, shape: AttentionShape, causal: boolean): Uint8Array {
  const out = new Uint8Array(shape.heads * shape.qLength * shape.kvLength);
  const { tileQ, tileK } = plan;
  for (let h = 0; h < shape.heads; h++) {
    for (let t = 0; t < plan.qTiles; t++) {
      for (let p = plan.tilePtr[h * plan.qTiles + t] as number; p < (plan.tilePtr[h * plan.qTiles + t + 1] as number); p++) {
        const info = plan.itemInfo.subarray(p * ITEM_FIELDS, (p + 1) * ITEM_FIELDS);
        expect([info[0], info[1]]).toEqual([h, t]);
        for (let r = 0; r < tileQ; r++) {
          const i = t * tileQ + r;
          if (i >= shape.qLength) continue;
          for (let c = 0; c < tileK; c++) {
            const key = (info[3] as number) >= 0 ? (plan.keyRows[(info[3] as number) * tileK + c] as number) : (info[2] as number) + c;
            if (key < 0 || key >= shape.kvLength) continue;
            if (causal && key > shape.qOffset + i) continue;
            if ((info[4] as number) >= 0 && plan.bitmaps[((info[4] as number) * tileQ + r) * tileK + c] !== 1) continue;
            out[(h * shape.qLength + i) * shape.kvLength + key]! += 1;
          }
        }
      }
    }
  }
  return out;
}

function randomMask(shape: AttentionShape, seed: number, sizes: { blockQ: number; blockK: number; columnBlockQ: number }): SparseMask {
  const rng = createRng(seed);
  const kBlocks = Math.ceil(shape.kvLength / sizes.blockK);
  const stripes = (h: number, q: number, k: number) => (q * 3 + k + h) % 4 !== 0;
  const blocks = buildBlockMask(shape, sizes, { heads: rng.next() < 0.3 ? 1 : shape.heads, maskMod: stripes }, (_h, _qb, full, partial) => {
    for (let kb = 0; kb < kBlocks; kb++) {
      const x = rng.next();
      if (x < 0.3) full.push(kb);
      else if (x < 0.5) partial.push(kb);
    }
  });
  const columns = ColumnMask.build(shape, sizes.columnBlockQ, {}, (_h, _qb, out) => {
    for (let k = 0; k < shape.kvLength; k++) if (rng.next() < 0.15) out.push(k);
  });
  const form = rng.int(3);
  return form === 0 ? { blocks } : form === 1 ? { columns } : { blocks, columns };
}

describe('work plans visit exactly the kept pairs, each once', () => {
  it('SparseMask plans equal the mask (blocks, partial bitmaps, columns, broadcast, qOffset, causal or not)', () => {
    fc.assert(
      fc.property(
        fc.record({
          heads: fc.integer({ min: 1, max: 3 }),
          qLength: fc.integer({ min: 1, max: 40 }),
          extraKv: fc.integer({ min: 0, max: 30 }),
          blockQ: fc.constantFrom(1, 4, 8, 16),
          blockK: fc.constantFrom(1, 4, 16, 32),
          columnBlockQ: fc.constantFrom(3, 8, 16),
          causal: fc.boolean(),
          seed: fc.integer({ min: 0, max: 1e6 }),
        }),
        (p) => {
          const shape: AttentionShape = {
            heads: p.heads,
            kvHeads: 1,
            qLength: p.qLength,
            kvLength: p.qLength + p.extraKv,
            dim: 4,
            qOffset: p.extraKv,
          };
          const mask = randomMask(shape, p.seed, p);
          const plan = maskPlan(shape, mask, p.causal);
          const want = sparseMaskToDense(mask, shape, { causal: p.causal });
          expect(Array.from(visits(plan, shape, p.causal))).toEqual(Array.from(want));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('dense plans cover every pair once (causal drops only future pairs), with small query tiles for short chunks', () => {
    for (const [qLength, kvLength, causal] of [
      [1, 100, true],
      [37, 37, true],
      [17, 29, false],
      [70, 200, true],
    ] as const) {
      const shape: AttentionShape = { heads: 2, kvHeads: 1, qLength, kvLength, dim: 8, qOffset: kvLength - qLength };
      const plan = densePlan(shape, causal);
      const got = visits(plan, shape, causal);
      for (let h = 0; h < 2; h++) {
        for (let i = 0; i < qLength; i++) {
          for (let k = 0; k < kvLength; k++) {
            const want = !causal || k <= shape.qOffset + i ? 1 : 0;
            expect(got[(h * qLength + i) * kvLength + k]).toBe(want);
          }
        }
      }
      expect(plan.tileQ).toBe(qLength === 1 ? 1 : qLength < 64 ? 2 ** Math.ceil(Math.log2(qLength)) : 64);
    }
  });

  it('a causal dense plan leaves out the key blocks after each tile (the kernels never visit them)', () => {
    const shape: AttentionShape = { heads: 1, kvHeads: 1, qLength: 256, kvLength: 256, dim: 8, qOffset: 0 };
    // 4 query tiles of 64 against 4 key blocks: 1 + 2 + 3 + 4 items instead of 16.
    expect(densePlan(shape, true).items).toBe(10);
    expect(densePlan(shape, false).items).toBe(16);
  });

  it('selection plans gather each kv head’s slots for every query head of its group', () => {
    const shape: AttentionShape = { heads: 4, kvHeads: 2, qLength: 3, kvLength: 150, dim: 8, qOffset: 147 };
    const lists = [Array.from({ length: 150 }, (_, s) => s).filter((s) => s % 3 === 0), [0, 5, 149]];
    const selection = TokenSelection.fromLists(lists, 150);
    const got = visits(selectionPlan(shape, selection, true), shape, true);
    for (let h = 0; h < 4; h++) {
      const slots = new Set(lists[kvHeadOf(h, 4, 2)]);
      for (let i = 0; i < 3; i++) {
        for (let k = 0; k < 150; k++) {
          expect(got[(h * 3 + i) * 150 + k]).toBe(slots.has(k) && k <= 147 + i ? 1 : 0);
        }
      }
    }
  });
});
