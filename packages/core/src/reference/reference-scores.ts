import type { ScoreInput, ScoresOptions, ScoresResult } from '../backend.js';
import { kvHeadOf } from '../tensor/head-tensor.js';
import { columnMaxArray, resolveScoresCall, type ScoresCall, scoresKeyAt } from './op-options.js';
import { poolRows } from './reference-ops.js';

/**
 * Reference of `Backend.scores`: each score is scale · (q · k) accumulated in float64 and rounded once to float32
 * (as `referencePooledScores` does); every reduction then works on those float32 values, plainly: a scan for max and
 * min, a sort for top-k, float64 sums in key order for the moments.
 */
export function referenceScores(input: ScoreInput, options: ScoresOptions = {}): ScoresResult {
  const call = resolveScoresCall(input, options);
  const { shape, rows, keys, keyCount, keyLo, keyHi } = call;
  const { heads, kvHeads, dim } = shape;
  const R = rows.length;
  const queries = pooledQueries(input, call);
  const dot = (h: number, r: number, key: number): number => {
    const g = kvHeadOf(h, heads, kvHeads);
    const qBase = (h * R + r) * dim;
    const kBase = (g * shape.kvLength + key) * dim;
    let s = 0;
    for (let c = 0; c < dim; c++) s += (queries[qBase + c] as number) * (input.k.data[kBase + c] as number);
    return Math.fround(s * call.scale);
  };
  if (keys.kind === 'groups') {
    const G = keys.groups.length - 1;
    const columnMax = columnMaxArray(call).fill(-Infinity);
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < G; t++) {
        for (let p = keys.offsets[h * G + t] as number; p < (keys.offsets[h * G + t + 1] as number); p++) {
          const key = keys.indices[p] as number;
          for (let r = keys.groups[t] as number; r < (keys.groups[t + 1] as number); r++) {
            if (key < (keyLo[r] as number) || key > (keyHi[r] as number)) continue;
            const v = dot(h, r, key);
            if (v > (columnMax[p] as number)) columnMax[p] = v;
          }
        }
      }
    }
    return { kind: 'scores', heads, rows: R, keys: 0, columnMax };
  }
  const { topK, atLeast, atLeastWords: words } = call;
  const scores = call.output ? new Float32Array(heads * R * keyCount) : undefined;
  const max = call.max ? { values: new Float32Array(heads * R), indices: new Int32Array(heads * R) } : undefined;
  const min = call.min ? { values: new Float32Array(heads * R), indices: new Int32Array(heads * R) } : undefined;
  const top = topK > 0 ? { k: topK, values: new Float32Array(heads * R * topK), indices: new Int32Array(heads * R * topK) } : undefined;
  const moments = call.moments
    ? { count: new Int32Array(heads * R), sum: new Float64Array(heads * R), sumSquares: new Float64Array(heads * R) }
    : undefined;
  const bits = atLeast ? new Int32Array(heads * R * words) : undefined;
  const candidates: { v: number; key: number }[] = [];
  for (let h = 0; h < heads; h++) {
    for (let r = 0; r < R; r++) {
      const row = h * R + r;
      let maxV = -Infinity;
      let maxI = -1;
      let minV = Infinity;
      let minI = -1;
      let count = 0;
      let sum = 0;
      let sq = 0;
      candidates.length = 0;
      const threshold = atLeast ? (atLeast[row] as number) : 0;
      for (let j = 0; j < keyCount; j++) {
        const key = scoresKeyAt(keys, j);
        const visible = key >= (keyLo[r] as number) && key <= (keyHi[r] as number);
        if (!visible) {
          if (scores) scores[row * keyCount + j] = -Infinity;
          continue;
        }
        const v = dot(h, r, key);
        if (scores) scores[row * keyCount + j] = v;
        if (v > maxV) {
          maxV = v;
          maxI = key;
        }
        if (v < minV) {
          minV = v;
          minI = key;
        }
        count++;
        sum += v;
        sq += v * v;
        if (top && v > -Infinity) candidates.push({ v, key });
        if (bits && v >= threshold) bits[row * words + (j >> 5)] = (bits[row * words + (j >> 5)] as number) | (1 << (j & 31));
      }
      if (max) {
        max.values[row] = maxV;
        max.indices[row] = maxI;
      }
      if (min) {
        min.values[row] = minV;
        min.indices[row] = minI;
      }
      if (moments) {
        moments.count[row] = count;
        moments.sum[row] = sum;
        moments.sumSquares[row] = sq;
      }
      if (top) {
        candidates.sort((a, b) => b.v - a.v || a.key - b.key);
        for (let t = 0; t < topK; t++) {
          const c = candidates[t];
          top.values[row * topK + t] = c ? c.v : -Infinity;
          top.indices[row * topK + t] = c ? c.key : -1;
        }
      }
    }
  }
  return {
    kind: 'scores',
    heads,
    rows: R,
    keys: keyCount,
    ...(scores ? { scores } : {}),
    ...(max ? { max } : {}),
    ...(min ? { min } : {}),
    ...(top ? { topK: top } : {}),
    ...(moments ? { moments } : {}),
    ...(bits ? { atLeast: { words, bits } } : {}),
  };
}

/** The requested (pooled) query rows of every head in float64, [heads][rows][dim]: block means as core's poolRows. */
function pooledQueries(input: ScoreInput, call: ScoresCall): Float64Array {
  const { heads, qLength, dim } = call.shape;
  const R = call.rows.length;
  const out = new Float64Array(heads * R * dim);
  const pooled = new Float64Array(dim);
  for (let h = 0; h < heads; h++) {
    for (let r = 0; r < R; r++) {
      const b = call.rows[r] as number;
      poolRows(input.q, h, b * call.queryBlock, Math.min(qLength, (b + 1) * call.queryBlock), 'mean', pooled);
      out.set(pooled, (h * R + r) * dim);
    }
  }
  return out;
}
