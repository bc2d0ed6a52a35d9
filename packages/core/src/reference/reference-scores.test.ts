import { describe, expect, it } from 'vitest';
import { type HeadTensor, randomHeadTensor } from '../tensor/head-tensor.js';
import { resolveScoresCall } from './op-options.js';
import { referencePooledScores } from './reference-ops.js';
import { referenceScores } from './reference-scores.js';

const q = randomHeadTensor({ heads: 4, length: 10, dim: 8, seed: 1 });
const k = randomHeadTensor({ heads: 2, length: 13, dim: 8, seed: 2 });

/** Textbook: s = scale · Σ_c q[h][i][c] · k[⌊h/2⌋][j][c] (4 query heads over 2 kv heads). */
function textbook(h: number, i: number, j: number, scale = 1, qt: HeadTensor = q, kt: HeadTensor = k): number {
  const g = Math.floor(h / (qt.heads / kt.heads));
  let s = 0;
  for (let c = 0; c < qt.dim; c++)
    s += (qt.data[(h * qt.length + i) * qt.dim + c] as number) * (kt.data[(g * kt.length + j) * kt.dim + c] as number);
  return Math.fround(s * scale);
}

describe('referenceScores', () => {
  it('returns scale · q·kᵀ with GQA, -Infinity after each row position (qOffset 3 by default)', () => {
    const r = referenceScores({ q, k }, { scale: 0.5 });
    expect([r.heads, r.rows, r.keys]).toEqual([4, 10, 13]);
    for (let h = 0; h < 4; h++)
      for (let i = 0; i < 10; i++)
        for (let j = 0; j < 13; j++) {
          const got = r.scores?.[(h * 10 + i) * 13 + j];
          expect(got).toBe(j > 3 + i ? -Infinity : textbook(h, i, j, 0.5));
        }
  });

  it('agrees with pooledScores over blocks of one row and one key, and pools query blocks like it', () => {
    const plain = referenceScores({ q, k }, { causal: false });
    const pooled = referencePooledScores({ q, k }, { blockQ: 1, blockK: 1, causal: false });
    expect(Array.from(plain.scores ?? [])).toEqual(Array.from(pooled.data));
    const blockMeans = referenceScores({ q, k }, { queryBlock: 4, scale: 0.25 });
    const pooledBlocks = referencePooledScores({ q, k }, { blockQ: 4, blockK: 1, scale: 0.25 });
    expect(Array.from(blockMeans.scores ?? [])).toEqual(Array.from(pooledBlocks.data));
  });

  it('selects rows and keys by range and list, with a window', () => {
    const r = referenceScores({ q, k }, { rows: Int32Array.of(2, 7), keys: { start: 4, count: 9 }, window: 3, causal: true });
    expect([r.rows, r.keys]).toEqual([2, 9]);
    for (let h = 0; h < 4; h++) {
      for (const [slot, i] of [2, 7].entries()) {
        for (let j = 0; j < 9; j++) {
          const key = 4 + j;
          const pos = 3 + i;
          const visible = key <= pos && key > pos - 3;
          expect(r.scores?.[(h * 2 + slot) * 9 + j]).toBe(visible ? textbook(h, i, key) : -Infinity);
        }
      }
    }
    const listed = referenceScores({ q, k }, { causal: false, keys: Int32Array.of(0, 5, 12) });
    expect(listed.scores?.[(3 * 10 + 9) * 3 + 2]).toBe(textbook(3, 9, 12));
  });

  it('reduces rows: max, min, top-k, moments and threshold bits, over visible keys only', () => {
    const thresholds = new Float64Array(40).fill(0.5);
    thresholds[5] = Number.NEGATIVE_INFINITY;
    const r = referenceScores({ q, k }, { output: true, reduce: { max: true, min: true, topK: 3, moments: true, atLeast: thresholds } });
    const { scores, max, min, topK, moments, atLeast } = r;
    if (!scores || !max || !min || !topK || !moments || !atLeast) throw new Error('missing reductions');
    for (let row = 0; row < 40; row++) {
      const pos = 3 + (row % 10);
      const visible = Array.from(scores.subarray(row * 13, row * 13 + pos + 1));
      const best = Math.max(...visible);
      expect(max.values[row]).toBe(best);
      expect(max.indices[row]).toBe(visible.indexOf(best));
      expect(min.values[row]).toBe(Math.min(...visible));
      const order = visible.map((v, j) => ({ v, j })).sort((a, b) => b.v - a.v || a.j - b.j);
      expect(Array.from(topK.indices.subarray(row * 3, row * 3 + 3))).toEqual(order.slice(0, 3).map((o) => o.j));
      expect(moments.count[row]).toBe(pos + 1);
      expect(moments.sum[row]).toBeCloseTo(
        visible.reduce((a, b) => a + b, 0),
        12,
      );
      expect(moments.sumSquares[row]).toBeCloseTo(
        visible.reduce((a, b) => a + b * b, 0),
        12,
      );
      for (let j = 0; j < 13; j++) {
        const bit = ((atLeast.bits[row] as number) >>> j) & 1;
        expect(bit).toBe(j <= pos && (scores[row * 13 + j] as number) >= (thresholds[row] as number) ? 1 : 0);
      }
    }
  });

  it('breaks ties by the lower key and pads top-k past the visible keys', () => {
    // Integer inputs make every score exact: keys 0 and 2 tie, key 1 is larger.
    const qt: HeadTensor = { data: Float32Array.of(1, 0), heads: 1, length: 1, dim: 2 };
    const kt: HeadTensor = { data: Float32Array.of(2, 0, 3, 0, 2, 1, 2, 5), heads: 1, length: 4, dim: 2 };
    const r = referenceScores({ q: qt, k: kt, qOffset: 2 }, { reduce: { topK: 4, max: true, min: true } });
    expect(Array.from(r.topK?.indices ?? [])).toEqual([1, 0, 2, -1]);
    expect(Array.from(r.topK?.values ?? [])).toEqual([3, 2, 2, -Infinity]);
    expect([r.max?.indices[0], r.min?.indices[0]]).toEqual([1, 0]);
  });

  it('gives column maxima per key group', () => {
    const groups = Int32Array.of(0, 4, 10);
    // Per query head: group 0 scores keys {1, 2}, group 1 scores {0, 12} (key 12 is after rows 0..8 of group 1).
    const offsets = Int32Array.from({ length: 9 }, (_, t) => 2 * t);
    const indices = Int32Array.from({ length: 16 }, (_, p) => (p % 4 < 2 ? [1, 2][p % 2] : [0, 12][p % 2]) as number);
    const r = referenceScores({ q, k }, { keys: { groups, offsets, indices }, reduce: { columnMax: true } });
    for (let h = 0; h < 4; h++) {
      const want = (key: number, r0: number, r1: number) => {
        let m = -Infinity;
        for (let i = r0; i < r1; i++) if (key <= 3 + i) m = Math.max(m, textbook(h, i, key));
        return m;
      };
      expect(r.columnMax?.[4 * h + 0]).toBe(want(1, 0, 4));
      expect(r.columnMax?.[4 * h + 1]).toBe(want(2, 0, 4));
      expect(r.columnMax?.[4 * h + 2]).toBe(want(0, 4, 10));
      expect(r.columnMax?.[4 * h + 3]).toBe(want(12, 4, 10));
    }
  });
});

describe('resolveScoresCall', () => {
  it('fills defaults: every row and key, scale 1, causal, scores only', () => {
    const call = resolveScoresCall({ q, k });
    expect([call.rows.length, call.keyCount, call.scale, call.causal, call.output, call.topK]).toEqual([10, 13, 1, true, true, 0]);
    expect(Array.from(call.keyHi.subarray(0, 3))).toEqual([3, 4, 5]);
    const pooled = resolveScoresCall({ q, k }, { queryBlock: 4, reduce: { max: true, topK: 99 } });
    expect([pooled.queryRows, pooled.output, pooled.topK]).toEqual([3, false, 13]);
    expect(Array.from(pooled.positions)).toEqual([6, 10, 12]);
  });

  it('rejects bad options with coded errors that name the option', () => {
    expect(() => resolveScoresCall({ q, k }, { rows: { start: 9, count: 2 } })).toThrow(
      /E_PARAMS.*rows.count must be an integer in \[1, 1\]/,
    );
    expect(() => resolveScoresCall({ q, k }, { keys: Int32Array.of(3, 3) })).toThrow(
      /keys must be strictly increasing.*got 3 at position 1 after 3/,
    );
    expect(() => resolveScoresCall({ q, k }, { keys: Int32Array.of(13) })).toThrow(/indices in \[0, 12\]/);
    expect(() => resolveScoresCall({ q, k }, { reduce: { topK: 70_000 } })).toThrow(/reduce.topK must be an integer in \[1, 65536\]/);
    expect(() => resolveScoresCall({ q, k }, { reduce: { atLeast: new Float64Array(3) } })).toThrow(
      /one threshold per query head and requested row \(40\)/,
    );
    expect(() => resolveScoresCall({ q, k }, { reduce: { columnMax: true } })).toThrow(/columnMax needs keys given as key groups/);
    const groups = { groups: Int32Array.of(0, 10), offsets: new Int32Array(5), indices: new Int32Array(0) };
    expect(() => resolveScoresCall({ q, k }, { keys: groups, reduce: { max: true, columnMax: true } })).toThrow(/columnMax only/);
    expect(() => resolveScoresCall({ q, k }, { keys: { ...groups, offsets: new Int32Array(4) }, reduce: { columnMax: true } })).toThrow(
      /keys.offsets must be an Int32Array of heads · groups \+ 1 = 5/,
    );
    expect(() => resolveScoresCall({ q, k }, { window: 0 })).toThrow(/window must be an integer >= 1/);
    expect(() => resolveScoresCall({ q, k }, { scale: Number.NaN })).toThrow(/scale must be finite/);
  });

  it('checks the indices of every key group: increasing within a group, in range, each group starting afresh', () => {
    // 4 query heads × 2 groups (rows 0..4 and 5..9): 8 key lists; lists 0 and 3 are empty.
    const groups = Int32Array.of(0, 5, 10);
    const offsets = Int32Array.of(0, 0, 2, 4, 4, 6, 8, 9, 10);
    const ok = Int32Array.of(3, 7, 0, 12, 1, 2, 5, 9, 11, 4);
    const call = (indices: Int32Array) => resolveScoresCall({ q, k }, { keys: { groups, offsets, indices }, reduce: { columnMax: true } });
    expect(call(ok).keys.kind).toBe('groups');
    const equal = ok.slice();
    equal[5] = 1; // list 4 is [1, 1]
    expect(() => call(equal)).toThrow(/E_PARAMS.*keys.indices of group 4 must be strictly increasing.*got 1 at position 5 after 1/);
    const outOfRange = ok.slice();
    outOfRange[9] = 13; // the last list, [13]
    expect(() => call(outOfRange)).toThrow(
      /keys.indices of group 7 must be strictly increasing indices in \[0, 12\], got 13 at position 9/,
    );
    const descending = ok.slice();
    descending[1] = 2; // list 1 is [3, 2]
    expect(() => call(descending)).toThrow(/keys.indices of group 1 .*got 2 at position 1 after 3/);
  });
});
