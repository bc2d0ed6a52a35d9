import { describe, expect, it } from 'vitest';
import { randomHeadTensor } from '../tensor/head-tensor.js';
import { resolveLastQueriesCall } from './op-options.js';
import { referenceAttention } from './reference-attention.js';
import {
  probeSumsLayout,
  quantizeRowsGrouped,
  referenceLastQueriesAttention,
  referenceLastQueriesSums,
  referencePooledScores,
  referenceQuantizedScores,
} from './reference-ops.js';

const q = randomHeadTensor({ heads: 4, length: 10, dim: 8, seed: 1 });
const k = randomHeadTensor({ heads: 2, length: 13, dim: 8, seed: 2 });

describe('referencePooledScores', () => {
  it('is the dot product of mean-pooled blocks, -Infinity for future blocks', () => {
    const s = referencePooledScores({ q, k }, { blockQ: 4, blockK: 5 });
    expect([s.qBlocks, s.kBlocks]).toEqual([3, 3]);
    // Query block 0 holds rows 0..3 at positions 3..6 (qOffset 3); key block 2 starts at 10: future.
    expect(s.data[0 * 9 + 0 * 3 + 2]).toBe(-Infinity);
    const h = 3;
    const g = 1;
    const mean = (t: typeof q, head: number, r0: number, r1: number) =>
      Array.from({ length: 8 }, (_, c) => {
        let acc = 0;
        for (let r = r0; r < r1; r++) acc += t.data[(head * t.length + r) * 8 + c] as number;
        return acc / (r1 - r0);
      });
    const pq = mean(q, h, 8, 10);
    const pk = mean(k, g, 10, 13);
    const want = pq.reduce((acc, x, c) => acc + x * (pk[c] as number), 0);
    expect(s.data[h * 9 + 2 * 3 + 2]).toBeCloseTo(want, 5);
  });

  it('supports max and min pooling and a scale', () => {
    const s = referencePooledScores({ q, k }, { blockQ: 10, blockK: 13, qPool: 'max', kPool: 'min', scale: 2, causal: false });
    let want = 0;
    for (let c = 0; c < 8; c++) {
      let mx = -Infinity;
      for (let r = 0; r < 10; r++) mx = Math.max(mx, q.data[r * 8 + c] as number);
      let mn = Infinity;
      for (let r = 0; r < 13; r++) mn = Math.min(mn, k.data[r * 8 + c] as number);
      want += mx * mn;
    }
    expect(s.data[0]).toBeCloseTo(2 * want, 5);
  });
});

describe('referenceLastQueriesSums', () => {
  // Each (head, row, key) probability, summed by hand into its column and its diagonal qPos − key.
  for (const causal of [true, false]) {
    it(`sums the probe by column and by diagonal${causal ? '' : ', negative diagonals too without causality'}`, () => {
      const rows = referenceLastQueriesAttention({ q, k }, { count: 3, causal });
      const sums = referenceLastQueriesSums({ q, k }, { count: 3, causal });
      // qOffset 3, rows 7..9 at positions 10..12: diagonals −12..12 at index δ + 12.
      expect([sums.rowStart, sums.rows, sums.slashOrigin, sums.slashLength]).toEqual([7, 3, 12, 25]);
      const vertical = new Float64Array(4 * 13);
      const slash = new Float64Array(4 * 25);
      for (let h = 0; h < 4; h++) {
        for (let r = 0; r < 3; r++) {
          for (let j = 0; j < 13; j++) {
            const p = rows.data[(h * 3 + r) * 13 + j] as number;
            vertical[h * 13 + j] = (vertical[h * 13 + j] as number) + p;
            slash[h * 25 + 10 + r - j + 12] = (slash[h * 25 + 10 + r - j + 12] as number) + p;
          }
        }
      }
      expect(Array.from(sums.vertical)).toEqual(Array.from(vertical));
      expect(Array.from(sums.slash)).toEqual(Array.from(slash));
      // Causal rows put nothing on a negative diagonal (a key after the query).
      const negative = Array.from(sums.slash.subarray(0, 12)).some((x) => x > 0);
      expect(negative).toBe(!causal);
    });
  }
});

describe('probeSumsLayout', () => {
  it('gives the slash geometry the sums use: row r of head h adds key j at h·slashLength + rowBase + r − j', () => {
    // qOffset 3, rows 7..9 at positions 10..12: diagonals −12..12, row 0 (position 10) key 0 at δ 10 → index 22.
    expect(probeSumsLayout(resolveLastQueriesCall({ q, k }, { count: 3 }))).toEqual({ slashOrigin: 12, slashLength: 25, rowBase: 22 });
    // Explicit qOffset 0 over 13 keys, last 2 of 10 rows (positions 8, 9): diagonals up to 9.
    expect(probeSumsLayout(resolveLastQueriesCall({ q, k, qOffset: 0 }, { count: 2 }))).toEqual({
      slashOrigin: 12,
      slashLength: 22,
      rowBase: 20,
    });
  });
});

describe('referenceLastQueriesAttention', () => {
  it('rows are softmax probabilities of the last queries, summing to 1 over visible keys', () => {
    const r = referenceLastQueriesAttention({ q, k }, { count: 3 });
    expect(r.rowStart).toBe(7);
    for (let h = 0; h < 4; h++) {
      for (let row = 0; row < 3; row++) {
        const base = (h * 3 + row) * 13;
        const qPos = 3 + 7 + row;
        let sum = 0;
        for (let j = 0; j < 13; j++) {
          if (j > qPos) expect(r.data[base + j]).toBe(0);
          sum += r.data[base + j] as number;
        }
        expect(sum).toBeCloseTo(1, 6);
      }
    }
  });

  it('agrees with the attention output when multiplied by V', () => {
    const v = randomHeadTensor({ heads: 2, length: 13, dim: 8, seed: 3 });
    const r = referenceLastQueriesAttention({ q, k }, { count: 10 });
    const out = referenceAttention({ q, k, v });
    const h = 2;
    const i = 4;
    for (let c = 0; c < 8; c++) {
      let acc = 0;
      for (let j = 0; j < 13; j++) acc += (r.data[(h * 10 + i) * 13 + j] as number) * (v.data[(1 * 13 + j) * 8 + c] as number);
      expect(acc).toBeCloseTo(out.output.data[(h * 10 + i) * 8 + c] as number, 5);
    }
  });
});

describe('referenceQuantizedScores', () => {
  it('int8 estimates track the exact logits up to a softmax-invariant row shift', () => {
    const r = referenceQuantizedScores({ q, k }, { bits: 8, causal: false });
    if (r.kind !== 'rows') throw new Error('expected rows');
    const scale = 1 / Math.sqrt(8);
    for (let h = 0; h < 4; h++) {
      const g = Math.floor(h / 2);
      for (let i = 0; i < 10; i++) {
        // Smoothing subtracts q·mean(K) from every logit of the row: compare differences between keys.
        const exact = (j: number) => {
          let s = 0;
          for (let c = 0; c < 8; c++) s += (q.data[(h * 10 + i) * 8 + c] as number) * (k.data[(g * 13 + j) * 8 + c] as number);
          return s * scale;
        };
        for (let j = 1; j < 13; j++) {
          const est = (r.data[(h * 10 + i) * 13 + j] as number) - (r.data[(h * 10 + i) * 13] as number);
          expect(Math.abs(est - (exact(j) - exact(0)))).toBeLessThan(0.1);
        }
      }
    }
  });

  it('int4 is coarser than int8, rows select a range, pool gives block maxima', () => {
    const exact = referenceQuantizedScores({ q, k }, { bits: 8, smoothK: false, causal: true });
    const coarse = referenceQuantizedScores({ q, k }, { bits: 4, smoothK: false, causal: true });
    const part = referenceQuantizedScores({ q, k }, { bits: 8, smoothK: false, rows: { start: 2, count: 3 } });
    const pooled = referenceQuantizedScores({ q, k }, { bits: 8, smoothK: false, pool: { blockQ: 5, blockK: 5 } });
    if (exact.kind !== 'rows' || coarse.kind !== 'rows' || part.kind !== 'rows' || pooled.kind !== 'blocks') throw new Error('kinds');
    expect(Array.from(part.data.subarray(0, 13))).toEqual(Array.from(exact.data.subarray(2 * 13, 3 * 13)));
    let maxOf = -Infinity;
    for (let i = 5; i < 10; i++) for (let j = 5; j < 10; j++) maxOf = Math.max(maxOf, exact.data[i * 13 + j] as number);
    expect(pooled.data[1 * 3 + 1]).toBe(maxOf);
    expect(exact.data[0 * 13 + 5]).toBe(-Infinity);
    expect(() => referenceQuantizedScores({ q, k }, { bits: 2 as never })).toThrow(/E_PARAMS.*8 or 4/);
  });

  it('rowBias is subtracted per row before pooling; groups share the absmax of their rows', () => {
    const plain = referenceQuantizedScores({ q, k }, { bits: 4, causal: true });
    const bias = Float32Array.from({ length: 4 * 10 }, (_, i) => (i % 7) - 3);
    const biased = referenceQuantizedScores({ q, k }, { bits: 4, causal: true, rowBias: bias });
    if (plain.kind !== 'rows' || biased.kind !== 'rows') throw new Error('kinds');
    for (let r = 0; r < 40; r++) {
      for (let j = 0; j <= (r % 10) + 3; j++) {
        expect(biased.data[r * 13 + j]).toBeCloseTo((plain.data[r * 13 + j] as number) - (bias[r] as number), 5);
      }
    }
    const pooled = referenceQuantizedScores({ q, k }, { bits: 4, rowBias: bias, pool: { blockQ: 5, blockK: 5 } });
    if (pooled.kind !== 'blocks') throw new Error('kind');
    let maxOf = -Infinity;
    for (let i = 5; i < 10; i++) for (let j = 0; j < 5; j++) maxOf = Math.max(maxOf, biased.data[i * 13 + j] as number);
    expect(pooled.data[1 * 3]).toBe(maxOf);

    const perToken = referenceQuantizedScores({ q, k }, { bits: 4, causal: false, groups: { q: 1, k: 1 } });
    const grouped = referenceQuantizedScores({ q, k }, { bits: 4, causal: false, groups: { q: 10, k: 13 } });
    if (perToken.kind !== 'rows' || grouped.kind !== 'rows') throw new Error('kinds');
    expect(Array.from(perToken.data)).toEqual(Array.from(plain.data.map((x, i) => (x === -Infinity ? (perToken.data[i] as number) : x))));
    expect(Array.from(grouped.data).some((x, i) => Math.abs(x - (perToken.data[i] as number)) > 1e-6)).toBe(true);
    // Group scales: one absmax per group of rows (here 4 rows, the last group short), integers within ±7.
    const ints = new Float64Array(4 * 10 * 8);
    const scales = quantizeRowsGrouped(q.data, { heads: 4, length: 10, dim: 8 }, 4, 4, undefined, 0, 10, ints, 0, 8);
    for (let h = 0; h < 4; h++) {
      for (let r = 0; r < 10; r++) {
        const g0 = Math.floor(r / 4) * 4;
        let absmax = 0;
        for (let a = g0; a < Math.min(10, g0 + 4); a++)
          for (let c = 0; c < 8; c++) absmax = Math.max(absmax, Math.abs(q.data[(h * 10 + a) * 8 + c] as number));
        expect(scales[h * 10 + r]).toBeCloseTo(absmax / 7, 6);
        for (let c = 0; c < 8; c++) {
          const v = ints[(h * 10 + r) * 8 + c] as number;
          expect(Math.abs(v)).toBeLessThanOrEqual(7);
          expect(Math.abs(v * (scales[h * 10 + r] as number) - (q.data[(h * 10 + r) * 8 + c] as number))).toBeLessThanOrEqual(
            (scales[h * 10 + r] as number) / 2 + 1e-6,
          );
        }
      }
    }
    expect(() => referenceQuantizedScores({ q, k }, { bits: 4, rowBias: new Float32Array(3) })).toThrow(/rowBias.*40 values/);
    expect(() => referenceQuantizedScores({ q, k }, { bits: 4, groups: { q: 0 } })).toThrow(/groups.q/);
  });
});
