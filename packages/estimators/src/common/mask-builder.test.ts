import { BlockMask, ColumnMask, sparseMaskToDense } from '@sparseland/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addBitRuns, buildSparseMask, type RowSink } from './mask-builder.js';

type Op = { kind: 'block'; kb: number } | { kind: 'keys'; a: number; b: number } | { kind: 'key'; k: number };

const geometry = fc
  .record({
    heads: fc.integer({ min: 1, max: 3 }),
    qLength: fc.integer({ min: 1, max: 30 }),
    extraKeys: fc.integer({ min: 0, max: 30 }),
    blockQ: fc.integer({ min: 1, max: 9 }),
    blockK: fc.integer({ min: 1, max: 9 }),
    causal: fc.boolean(),
    promote: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1000 }),
  })
  .map((g) => ({ ...g, kvLength: g.qLength + g.extraKeys, qOffset: g.extraKeys }));

function opsFor(seed: number, kvLength: number, blockK: number): Op[] {
  // A small deterministic generator keeps the property's shrinking meaningful.
  let s = seed + 1;
  const next = (n: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % Math.max(1, n);
  };
  const ops: Op[] = [];
  const count = next(6);
  for (let i = 0; i < count; i++) {
    const kind = next(3);
    if (kind === 0) ops.push({ kind: 'block', kb: next(Math.ceil(kvLength / blockK) + 2) - 1 });
    else if (kind === 1) {
      const a = next(kvLength + 4) - 2;
      ops.push({ kind: 'keys', a, b: a + next(kvLength) });
    } else ops.push({ kind: 'key', k: next(kvLength + 2) - 1 });
  }
  return ops;
}

describe('buildSparseMask', () => {
  it('keeps exactly the union of what each row added (after causality), with no column inside a kept block', () => {
    fc.assert(
      fc.property(geometry, (g) => {
        const shape = { heads: g.heads, qLength: g.qLength, kvLength: g.kvLength, qOffset: g.qOffset };
        const qBlocks = Math.ceil(g.qLength / g.blockQ);
        const plan = new Map<number, Op[]>();
        for (let h = 0; h < g.heads; h++)
          for (let qb = 0; qb < qBlocks; qb++) plan.set(h * qBlocks + qb, opsFor(g.seed + h * 97 + qb, g.kvLength, g.blockK));
        const mask = buildSparseMask(shape, g, { causal: g.causal, promote: g.promote }, (h, qb, row) => {
          for (const op of plan.get(h * qBlocks + qb) ?? []) {
            if (op.kind === 'block') row.addBlock(op.kb);
            else if (op.kind === 'keys') row.addKeys(op.a, op.b);
            else row.addKey(op.k);
          }
        });
        // Structure: untrusted construction re-checks sorted, in-range, disjoint lists.
        if (mask.blocks)
          new BlockMask({ ...mask.blocks.shape, blockQ: g.blockQ, blockK: g.blockK, full: mask.blocks.full, partial: mask.blocks.partial });
        if (mask.columns) new ColumnMask({ ...mask.columns.shape, blockQ: g.blockQ, rowPtr: mask.columns.rowPtr, cols: mask.columns.cols });
        if (mask.blocks && mask.columns) {
          for (let h = 0; h < g.heads; h++) {
            for (let qb = 0; qb < qBlocks; qb++) {
              const full = new Set(mask.blocks.fullBlocks(h, qb));
              for (const k of mask.columns.columns(h, qb)) expect(full.has(Math.floor(k / g.blockK))).toBe(false);
            }
          }
        }
        const got = sparseMaskToDense(mask, shape, { causal: true });
        for (let h = 0; h < g.heads; h++) {
          for (let i = 0; i < g.qLength; i++) {
            const qb = Math.floor(i / g.blockQ);
            const lastPos = g.qOffset + Math.min(g.qLength, (qb + 1) * g.blockQ) - 1;
            const lastKey = g.causal ? Math.min(g.kvLength - 1, lastPos) : g.kvLength - 1;
            for (let k = 0; k < g.kvLength; k++) {
              let want = false;
              for (const op of plan.get(h * qBlocks + qb) ?? []) {
                if (op.kind === 'block') want ||= op.kb * g.blockK <= lastKey && Math.floor(k / g.blockK) === op.kb;
                else if (op.kind === 'keys') want ||= k >= op.a && k < op.b && k <= lastKey;
                else want ||= k === op.k && k <= lastKey;
              }
              want &&= k <= g.qOffset + i; // the causal view used for the comparison
              expect(got[(h * g.qLength + i) * g.kvLength + k], `h${h} row ${i} key ${k}`).toBe(want ? 1 : 0);
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('turns a block whose visible keys all came one by one into a full block when promoting', () => {
    const shape = { heads: 1, qLength: 8, kvLength: 8, qOffset: 0 };
    const mask = buildSparseMask(shape, { blockQ: 8, blockK: 4 }, { causal: true }, (_h, _qb, row) => {
      for (let k = 0; k < 4; k++) row.addKey(k);
      row.addKey(5);
    });
    expect(Array.from(mask.blocks?.fullBlocks(0, 0) ?? [])).toEqual([0]);
    expect(Array.from(mask.columns?.columns(0, 0) ?? [])).toEqual([5]);
    const kept = buildSparseMask(shape, { blockQ: 8, blockK: 4 }, { causal: true, promote: false }, (_h, _qb, row) => {
      for (let k = 0; k < 4; k++) row.addKey(k);
    });
    expect(kept.blocks).toBeUndefined();
    expect(Array.from(kept.columns?.columns(0, 0) ?? [])).toEqual([0, 1, 2, 3]);
  });
});

describe('addBitRuns', () => {
  it('adds exactly the set bits of the slot range, offset, as maximal runs', () => {
    fc.assert(
      fc.property(
        // Runs of equal bits (up to 40 long), so whole words of ones and zeros occur.
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 40 })), { maxLength: 8 }),
        fc.integer({ min: 0, max: 140 }),
        fc.integer({ min: 0, max: 140 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 50 }),
        (pieces, a, b, at, offset) => {
          const flags = pieces.flatMap(([f, n]) => Array<boolean>(n).fill(f));
          const bits = new Int32Array(at + Math.ceil(flags.length / 32) + 1);
          flags.forEach((f, j) => {
            if (f) bits[at + (j >> 5)] = (bits[at + (j >> 5)] as number) | (1 << (j & 31));
          });
          const [from, to] = [Math.min(a, b, flags.length), Math.min(Math.max(a, b), flags.length)];
          const runs: [number, number][] = [];
          const row: RowSink = {
            addBlock: () => expect.unreachable('no blocks'),
            addKey: () => expect.unreachable('no single keys'),
            addKeys: (k0, k1) => runs.push([k0, k1]),
          };
          addBitRuns(row, bits, at, from, to, offset);
          const kept = runs.flatMap(([k0, k1]) => Array.from({ length: k1 - k0 }, (_, i) => k0 + i));
          const want = Array.from({ length: to - from }, (_, i) => from + i)
            .filter((j) => flags[j])
            .map((j) => j + offset);
          expect(kept).toEqual(want);
          // Maximal: consecutive runs never touch.
          for (let r = 1; r < runs.length; r++)
            expect((runs[r] as [number, number])[0]).toBeGreaterThan((runs[r - 1] as [number, number])[1]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
