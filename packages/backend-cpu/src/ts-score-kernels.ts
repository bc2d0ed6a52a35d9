import type { ScoreKernels } from './kernels.js';
import { STAT_INTS } from './kernels.js';
import { TILE } from './scratch-layout.js';
import type { MemoryViews } from './ts-kernels.js';

/**
 * TypeScript twins of the `scores` kernels (assembly/kernels.ts, end of file): the same results on the same memory,
 * in plain scalar code. Top-k candidates are kept as (score, key) pairs of two i32 slots instead of u64 keys, and a
 * floor as (score, ~key) so that zeroed memory means "no floor yet".
 */
export function createTsScoreKernels(views: MemoryViews, dim: () => number): ScoreKernels {
  /** Sorts the row's n candidates at buf (pairs) best first: larger score, then lower key. */
  function sortBest(buf: number, n: number): void {
    const { f32, i32 } = views;
    const order = Array.from({ length: n }, (_, c) => c);
    const score = (c: number) => f32[buf + 2 * c] as number;
    const key = (c: number) => i32[buf + 2 * c + 1] as number;
    order.sort((a, b) => score(b) - score(a) || key(a) - key(b));
    const values = order.map(score);
    const keys = order.map(key);
    for (let c = 0; c < n; c++) {
      f32[buf + 2 * c] = values[c] as number;
      i32[buf + 2 * c + 1] = keys[c] as number;
    }
  }

  return {
    gatherKeys(kt, k, keyIdx, n) {
      const { f32, i32 } = views;
      const d = dim();
      for (let j = 0; j < n; j++) {
        const src = k + (i32[keyIdx + j] as number) * d;
        for (let c = 0; c < d; c++) f32[kt + c * TILE + j] = f32[src + c] as number;
      }
    },

    rowStats(s, rows, ja, jb, keyIdx, stats, flags) {
      const { f32, i32, f64 } = views;
      for (let r = 0; r < rows; r++) {
        const a = i32[ja + r] as number;
        const b = i32[jb + r] as number;
        if (b <= a) continue;
        const rec = stats + r * STAT_INTS;
        const row = s + r * TILE;
        if (flags & 1) {
          let m = f32[rec] as number;
          let at = -1;
          for (let j = a; j < b; j++) {
            const v = f32[row + j] as number;
            if (v > m) {
              m = v;
              at = j;
            }
          }
          if (at >= 0) {
            f32[rec] = m;
            i32[rec + 1] = i32[keyIdx + at] as number;
          }
        }
        if (flags & 2) {
          let m = f32[rec + 2] as number;
          let at = -1;
          for (let j = a; j < b; j++) {
            const v = f32[row + j] as number;
            if (v < m) {
              m = v;
              at = j;
            }
          }
          if (at >= 0) {
            f32[rec + 2] = m;
            i32[rec + 3] = i32[keyIdx + at] as number;
          }
        }
        if (flags & 4) {
          const at = (rec + 4) >> 1;
          let sum = f64[at + 1] as number;
          let sq = f64[at + 2] as number;
          for (let j = a; j < b; j++) {
            const v = f32[row + j] as number;
            sum += v;
            sq += v * v;
          }
          f64[at] = (f64[at] as number) + (b - a);
          f64[at + 1] = sum;
          f64[at + 2] = sq;
        }
      }
    },

    rowTopK(s, rows, ja, jb, keyIdx, buf, cap, k, counts, floors) {
      const { f32, i32 } = views;
      for (let r = 0; r < rows; r++) {
        const a = i32[ja + r] as number;
        const b = i32[jb + r] as number;
        if (b <= a) continue;
        const row = s + r * TILE;
        const p = buf + r * 2 * cap;
        let n = i32[counts + r] as number;
        let floorKey = ~(i32[floors + 2 * r + 1] as number);
        let floorScore = floorKey < 0 ? Number.NEGATIVE_INFINITY : (f32[floors + 2 * r] as number);
        for (let j = a; j < b; j++) {
          const v = (f32[row + j] as number) + 0;
          if (!(v > Number.NEGATIVE_INFINITY) || v < floorScore) continue;
          const key = i32[keyIdx + j] as number;
          if (floorKey >= 0 && v === floorScore && key > floorKey) continue;
          f32[p + 2 * n] = v;
          i32[p + 2 * n + 1] = key;
          n++;
          if (n === cap) {
            sortBest(p, n);
            n = k;
            floorScore = f32[p + 2 * (k - 1)] as number;
            floorKey = i32[p + 2 * (k - 1) + 1] as number;
          }
        }
        i32[counts + r] = n;
        f32[floors + 2 * r] = floorKey < 0 ? 0 : floorScore;
        i32[floors + 2 * r + 1] = ~floorKey;
      }
    },

    rowTopKFinish(buf, count, k, values, indices) {
      const { f32, i32 } = views;
      sortBest(buf, count);
      for (let t = 0; t < k; t++) {
        f32[values + t] = t < count ? (f32[buf + 2 * t] as number) : Number.NEGATIVE_INFINITY;
        i32[indices + t] = t < count ? (i32[buf + 2 * t + 1] as number) : -1;
      }
    },

    rowAtLeast(s, rows, ja, jb, thresholds, words, wordsPerRow, tileWord) {
      const { f32, i32, f64 } = views;
      for (let r = 0; r < rows; r++) {
        const a = i32[ja + r] as number;
        const b = i32[jb + r] as number;
        const t = f64[(thresholds >> 1) + r] as number;
        for (let j = a; j < b; j++) {
          if (!((f32[s + r * TILE + j] as number) >= t)) continue;
          const w = words + r * wordsPerRow + tileWord + (j >> 5);
          i32[w] = (i32[w] as number) | (1 << (j & 31));
        }
      }
    },

    gatherRows(dst, k, keyIdx, n) {
      const { f32, i32 } = views;
      const d = dim();
      for (let j = 0; j < n; j++) {
        const src = k + (i32[keyIdx + j] as number) * d;
        f32.copyWithin(dst + j * d, src, src + d);
      }
    },

    rowMaxInto(s, rows, cols, dst) {
      const f32 = views.f32;
      for (let r = 0; r < rows; r++) {
        let m = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < cols; j++) {
          const v = f32[s + r * TILE + j] as number;
          if (v > m) m = v;
        }
        if (m > (f32[dst + r] as number)) f32[dst + r] = m;
      }
    },

    colMaxRows(s, rows, ja, jb, dst) {
      const { f32, i32 } = views;
      for (let r = 0; r < rows; r++) {
        const b = i32[jb + r] as number;
        for (let j = i32[ja + r] as number; j < b; j++) {
          const v = f32[s + r * TILE + j] as number;
          if (v > (f32[dst + j] as number)) f32[dst + j] = v;
        }
      }
    },
  };
}
