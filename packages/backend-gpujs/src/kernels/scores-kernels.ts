import type { DimConstants, Grid, KernelThis, Line } from './kernel-this.js';

// Kernels of the `scores` op. The first pass writes a chunk of scores `[slots, heads · rows]` (-1e30 where a key is
// not visible); the reductions are second passes over it, one thread per row (or per output cell of a row). Integers
// (rows, keys, slots) travel as floats: exact below 2^24. Constant: dim.

/**
 * scale · q·k of requested row r of head h against the key of slot x: q is the (pooled) query grid with `qRows`
 * rows per head; rowInfo[r] = [its row in q, first and last key it may see].
 */
export function scoresChunkKernel(
  this: KernelThis<DimConstants>,
  q: Grid,
  k: Grid,
  rowInfo: Grid,
  slotKeys: Line,
  rows: number,
  qRows: number,
  kvLength: number,
  groupSize: number,
  scale: number,
): number {
  const h = Math.floor((this.thread.y + 0.5) / rows);
  const r = this.thread.y - h * rows;
  const key = slotKeys[this.thread.x]!;
  if (key < rowInfo[r]![1]! || key > rowInfo[r]![2]!) return -1e30;
  const qRow = h * qRows + rowInfo[r]![0]!;
  const kRow = Math.floor((h + 0.5) / groupSize) * kvLength + key;
  let s = 0;
  for (let c = 0; c < this.constants.dim; c++) s += q[qRow]![c]! * k[kRow]![c]!;
  return s * scale;
}

/**
 * Per row of the chunk `[n, rows]`: x = 0 the largest visible score (-1e30 when none), 1 its first slot (-1), 2 the
 * smallest (1e38 when none), 3 its first slot (-1). NaN never wins.
 */
export function rowExtremesKernel(this: KernelThis<DimConstants>, scores: Grid, n: number): number {
  const want = this.thread.x;
  let best = -1e30;
  let at = -1;
  if (want > 1.5) best = 1e38;
  for (let j = 0; j < n; j++) {
    const v = scores[this.thread.y]![j]!;
    if (v > -1e29) {
      if (want < 1.5) {
        if (v > best) {
          best = v;
          at = j;
        }
      } else if (v < best) {
        best = v;
        at = j;
      }
    }
  }
  if (want < 0.5 || (want > 1.5 && want < 2.5)) return best;
  return at;
}

/** Per row: x = 0 the visible keys, 1 the sum of their scores, 2 the sum of squares (float32 accumulation). */
export function rowMomentsKernel(this: KernelThis<DimConstants>, scores: Grid, n: number): number {
  let count = 0;
  let sum = 0;
  let sq = 0;
  for (let j = 0; j < n; j++) {
    const v = scores[this.thread.y]![j]!;
    if (v > -1e29) {
      count += 1;
      sum += v;
      sq += v * v;
    }
  }
  if (this.thread.x < 0.5) return count;
  if (this.thread.x < 1.5) return sum;
  return sq;
}

/**
 * 16 threshold bits per thread: bit b of cell x is slot 16x + b, set when the slot is visible and its score is ≥ the
 * row's threshold (a float32 already rounded up from the float64 threshold on the host). Output `[⌈n / 16⌉, rows]`.
 */
export function rowAtLeastKernel(this: KernelThis<DimConstants>, scores: Grid, thresholds: Line, n: number): number {
  const t = thresholds[this.thread.y]!;
  let bits = 0;
  let weight = 1;
  for (let b = 0; b < 16; b++) {
    const j = this.thread.x * 16 + b;
    if (j < n) {
      const v = scores[this.thread.y]![j]!;
      if (v > -1e29 && v >= t) bits += weight;
    }
    weight *= 2;
  }
  return bits;
}

/**
 * The k-th largest visible score of each row by bisection on the value (-1e38 when the row has at most k visible
 * scores: keep them all). Converged, it is the exact k-th value; the host checks that count(> T) < k ≤ count(≥ T)
 * and falls back to the row's scores if 300 halvings were not enough. Output `[rows]`.
 */
export function rowKthKernel(this: KernelThis<DimConstants>, scores: Grid, n: number, k: number): number {
  const row = this.thread.x;
  let count = 0;
  let lo = 1e38;
  let hi = -1e38;
  for (let j = 0; j < n; j++) {
    const v = scores[row]![j]!;
    if (v > -1e29) {
      count += 1;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (count <= k) return -1e38;
  let atTop = 0;
  for (let j2 = 0; j2 < n; j2++) {
    if (scores[row]![j2]! >= hi) atTop += 1;
  }
  if (atTop >= k) return hi;
  // Invariant: count(≥ lo) ≥ k > count(≥ hi).
  let done = 0;
  for (let it = 0; it < 300; it++) {
    if (done < 0.5) {
      const mid = lo + (hi - lo) * 0.5;
      if (mid <= lo || mid >= hi) done = 1;
      else {
        let above = 0;
        for (let j3 = 0; j3 < n; j3++) {
          const v3 = scores[row]![j3]!;
          if (v3 > -1e29 && v3 >= mid) above += 1;
        }
        if (above >= k) lo = mid;
        else hi = mid;
      }
    }
  }
  return lo;
}

/**
 * 16 bits per thread of the top-k candidates around each row's threshold T: cells [0, W) mark slots with score > T,
 * cells [W, 2W) slots with score = T (W = ⌈n / 16⌉). Output `[2W, rows]`.
 */
export function rowTopBitsKernel(this: KernelThis<DimConstants>, scores: Grid, kth: Line, n: number, words: number): number {
  const t = kth[this.thread.y]!;
  let cell = this.thread.x;
  let equal = 0;
  if (cell >= words) {
    cell -= words;
    equal = 1;
  }
  let bits = 0;
  let weight = 1;
  for (let b = 0; b < 16; b++) {
    const j = cell * 16 + b;
    if (j < n) {
      const v = scores[this.thread.y]![j]!;
      if (v > -1e29) {
        if (equal > 0.5) {
          if (v === t) bits += weight;
        } else if (v > t) bits += weight;
      }
    }
    weight *= 2;
  }
  return bits;
}

/** The score of chosen slot `slots[row][t]` of each row (-1e30 for -1). Output `[k, rows]`. */
export function gatherScoresKernel(this: KernelThis<DimConstants>, scores: Grid, slots: Grid): number {
  const slot = slots[this.thread.y]![this.thread.x]!;
  if (slot < 0) return -1e30;
  return scores[this.thread.y]![slot]!;
}

/**
 * Column maxima of key groups: entry p = [key, query head, first row, end row] of a group is the largest
 * scale · q·k over the group's rows that see the key (rowInfo as scoresChunkKernel's), -1e30 when none does.
 * Inputs are packed into few grids: WebGPU allows 8 storage buffers per kernel. Output `[entries]`.
 */
export function groupColumnMaxKernel(
  this: KernelThis<DimConstants>,
  q: Grid,
  k: Grid,
  entries: Grid,
  rowInfo: Grid,
  qRows: number,
  kvLength: number,
  groupSize: number,
  scale: number,
): number {
  const p = this.thread.x;
  const key = entries[p]![0]!;
  const h = entries[p]![1]!;
  const r0 = entries[p]![2]!;
  const count = entries[p]![3]! - r0;
  const kRow = Math.floor((h + 0.5) / groupSize) * kvLength + key;
  let best = -1e30;
  for (let n = 0; n < count; n++) {
    const r = r0 + n;
    if (key >= rowInfo[r]![1]! && key <= rowInfo[r]![2]!) {
      const qRow = h * qRows + rowInfo[r]![0]!;
      let s = 0;
      for (let c = 0; c < this.constants.dim; c++) s += q[qRow]![c]! * k[kRow]![c]!;
      best = Math.max(best, s * scale);
    }
  }
  return best;
}
