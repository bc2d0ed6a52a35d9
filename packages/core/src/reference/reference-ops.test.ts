import { describe, expect, it } from 'vitest';
import { randomHeadTensor } from '../tensor/head-tensor.js';
import { referenceAttention } from './reference-attention.js';
import { referenceLastQueriesAttention, referencePooledScores, referenceQuantizedScores } from './reference-ops.js';

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
});
