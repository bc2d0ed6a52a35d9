import {
  attentionRecall,
  ColumnMask,
  createBlockMask,
  outputError,
  randomHeadTensor,
  referenceAttention,
  type SparseMask,
  slicePositions,
} from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeDenseOracle } from '../oracle/dense-oracle.js';
import { sampleRows } from '../oracle/row-sample.js';
import { measureItem, sumHeadMeasurements } from './item-metrics.js';

/** A random SparseMask (blocks with a partial MaskMod, plus columns) on an odd, GQA, possibly chunked shape. */
const arbCase = fc.record({
  qHeads: fc.constantFrom(2, 4, 6),
  group: fc.constantFrom(1, 2),
  qLength: fc.integer({ min: 1, max: 45 }),
  extra: fc.integer({ min: 0, max: 20 }),
  dim: fc.integer({ min: 1, max: 9 }),
  blockQ: fc.integer({ min: 1, max: 16 }),
  blockK: fc.integer({ min: 1, max: 16 }),
  seed: fc.integer({ min: 0, max: 1e6 }),
  withColumns: fc.boolean(),
  broadcast: fc.boolean(),
  causal: fc.boolean(),
});

type Case = typeof arbCase extends fc.Arbitrary<infer T> ? T : never;

function build(c: Case) {
  const kvHeads = c.qHeads / c.group;
  const kvLength = c.qLength + c.extra;
  const input = {
    q: randomHeadTensor({ heads: c.qHeads, length: c.qLength, dim: c.dim, seed: c.seed, scale: 2 }),
    k: randomHeadTensor({ heads: kvHeads, length: kvLength, dim: c.dim, seed: c.seed + 1, scale: 2 }),
    v: randomHeadTensor({ heads: kvHeads, length: kvLength, dim: c.dim, seed: c.seed + 2 }),
  };
  const shape = resolveAttentionShape(input);
  const heads = c.broadcast ? 1 : shape.heads;
  const blocks = createBlockMask((h, q, k) => (q * 7 + k * 3 + h + c.seed) % 5 < 2 || q - k < 3, { ...shape, heads }, c);
  const columns = c.withColumns
    ? ColumnMask.build(shape, c.blockQ, {}, (h, qb, out) => {
        for (let k = (h + qb + c.seed) % 3; k < kvLength; k += 4) out.push(k);
      })
    : undefined;
  const mask: SparseMask = columns ? { blocks, columns } : { blocks };
  return { input, shape, mask };
}

describe('measureItem', () => {
  it('recall equals core’s attentionRecall, and output error core’s outputError, on the measured rows', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { input, shape, mask } = build(c);
        const rows = sampleRows(shape.qLength, Math.max(1, Math.floor(shape.qLength / 2)), c.seed);
        const oracle = computeDenseOracle(input, shape, rows, c.causal);
        const sparse = referenceAttention(input, { mask, causal: c.causal });
        const dense = referenceAttention(input, { causal: c.causal });
        const measured = measureItem(oracle, mask, sparse.output);
        const recall = attentionRecall(input, mask, { rows, causal: c.causal });
        for (let h = 0; h < shape.heads; h++) {
          const m = measured[h]!;
          expect(m.recallSum / m.rows).toBeCloseTo(recall.perHead[h]!, 5);
          const perRow = Array.from(recall.perRow.subarray(h * rows.length, (h + 1) * rows.length));
          expect(m.recallMin).toBeCloseTo(Math.min(...perRow), 5);
          // Output error of head h over the measured rows, from core's metric on the gathered rows.
          const pick = (t: { data: Float32Array }) => {
            const out: number[] = [];
            for (const i of rows)
              out.push(...t.data.subarray((h * shape.qLength + i) * shape.dim, (h * shape.qLength + i + 1) * shape.dim));
            return Float32Array.from(out);
          };
          const want = outputError(pick(sparse.output), pick(dense.output));
          const got = m.normSquared === 0 ? (m.errorSquared === 0 ? 0 : Infinity) : Math.sqrt(m.errorSquared / m.normSquared);
          if (Number.isFinite(want)) expect(got).toBeCloseTo(want, 4);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('counts a needle as hit only when the mask keeps the pair and causality allows it', () => {
    const input = {
      q: randomHeadTensor({ heads: 2, length: 10, dim: 4, seed: 1 }),
      k: randomHeadTensor({ heads: 1, length: 10, dim: 4, seed: 2 }),
      v: randomHeadTensor({ heads: 1, length: 10, dim: 4, seed: 3 }),
    };
    const shape = resolveAttentionShape(input);
    const mask = { blocks: createBlockMask((h, q, k) => (h === 0 ? k === 2 : q === k), shape, { blockQ: 4, blockK: 4 }) };
    const oracle = computeDenseOracle(input, shape, [9], true);
    const out = referenceAttention(input, { mask }).output;
    const needles = [
      { head: 0, qRow: 9, key: 2 },
      { head: 0, qRow: 9, key: 3 },
      { head: 1, qRow: 9, key: 9 },
      { head: 1, qRow: 1, key: 5 },
    ];
    const [h0, h1] = measureItem(oracle, mask, out, needles);
    expect([h0!.needles, h0!.needleHits]).toEqual([2, 1]);
    expect([h1!.needles, h1!.needleHits]).toEqual([2, 1]);
    const dense = measureItem(oracle, undefined, referenceAttention(input).output, needles);
    expect(dense.map((m) => m.needleHits)).toEqual([2, 1]);
    expect(dense[0]!.recallSum).toBeCloseTo(1, 6);
    expect(dense[0]!.errorSquared).toBeLessThan(1e-10);
  });

  it('measures chunked queries (qOffset) at the right absolute positions', () => {
    const full = {
      q: randomHeadTensor({ heads: 2, length: 30, dim: 8, seed: 4 }),
      k: randomHeadTensor({ heads: 2, length: 30, dim: 8, seed: 5 }),
      v: randomHeadTensor({ heads: 2, length: 30, dim: 8, seed: 6 }),
    };
    const chunk = { ...full, q: slicePositions(full.q, 20, 30) };
    const shape = resolveAttentionShape(chunk);
    expect(shape.qOffset).toBe(20);
    const keep = (_h: number, q: number, k: number) => q - k < 5;
    const mask = { blocks: createBlockMask(keep, shape, { blockQ: 3, blockK: 7 }) };
    const oracle = computeDenseOracle(chunk, shape, [0, 9], true);
    const [m] = measureItem(oracle, mask, referenceAttention(chunk, { mask }).output);
    const recall = attentionRecall(chunk, keep, { rows: [0, 9] });
    expect(m!.recallSum / 2).toBeCloseTo(recall.perHead[0]!, 5);
    expect(m!.keptPairs).toBe(10 * 5);
  });
});

describe('sampleRows', () => {
  it('takes every row when the count allows, else spreads them evenly, always with the required rows', () => {
    expect(sampleRows(5, 10, 0)).toEqual([0, 1, 2, 3, 4]);
    const rows = sampleRows(1000, 10, 3, [999, 0]);
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(rows.length).toBeLessThanOrEqual(12);
    expect(rows).toContain(999);
    expect(rows).toContain(0);
    for (let s = 0; s < 10; s++) expect(rows.some((r) => r >= s * 100 && r < (s + 1) * 100)).toBe(true);
    expect(sampleRows(1000, 10, 3)).toEqual(sampleRows(1000, 10, 3));
  });
});

describe('sumHeadMeasurements', () => {
  it('sums every count across heads and keeps the smallest recall; Infinity when there are no heads', () => {
    const head = (h: number, recallMin: number) => ({
      head: h,
      keptPairs: 10 + h,
      densePairs: 20,
      recallSum: 3 + h,
      recallMin,
      rows: 4,
      errorSquared: 0.5,
      normSquared: 2,
      needles: 1,
      needleHits: h,
    });
    expect(sumHeadMeasurements([head(0, 0.9), head(1, 0.7), head(2, 0.8)])).toEqual({
      keptPairs: 33,
      densePairs: 60,
      recallSum: 12,
      recallMin: 0.7,
      rows: 12,
      errorSquared: 1.5,
      normSquared: 6,
      needles: 3,
      needleHits: 3,
    });
    expect(sumHeadMeasurements([]).recallMin).toBe(Infinity);
  });
});
