import { createRng } from '@sparseland/core/kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { relaxedSimdReason } from '../src/environment.js';
import type { Kernels } from '../src/kernels.js';
import { STAT_INTS } from '../src/kernels.js';
import { TILE } from '../src/scratch-layout.js';
import { createTsKernels, createViews, type MemoryViews } from '../src/ts-kernels.js';
import { instantiateKernels, kernelModule, type SimdVariant } from '../src/wasm/wasm-module.js';

// The `scores` kernels (gathering and per-row reductions) in WebAssembly (both builds) and TypeScript, on the same
// memory: identical results, and results equal to a plain oracle over the same float32 tile values. Tiles hold
// integer-valued scores (many exact ties) or random ones, rows see odd slot ranges, and several tiles are folded in.

beforeAll(async () => {
  expect(await relaxedSimdReason()).toBeUndefined();
});

const S = 10_000;
const JA = 20_000;
const JB = 20_100;
const KEYS = 20_200;
const STATS = 22_000;
const BUF = 30_000;
const COUNTS = 29_000;
const FLOORS = 29_200;
const OUT_V = 200_000;
const OUT_I = 210_000;
const T = 220_000;
const WORDS = 230_000;
const COL = 240_000;

function both(variant: SimdVariant): [Kernels, MemoryViews][] {
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
  const wv = createViews(memory.buffer);
  const tv = createViews(new SharedArrayBuffer(64 * 65536));
  return [
    [instantiateKernels(kernelModule(variant, true), memory), wv],
    [createTsKernels(tv), tv],
  ];
}

/** Tiles of `rows` × 64 scores (integers in [-3, 3] or normals), visible ranges per row, slot keys 1000 + 3·slot. */
function fillTile(views: MemoryViews[], seed: number, rows: number, integers: boolean, tile: number): void {
  const rng = createRng(seed);
  for (let i = 0; i < rows * TILE; i++) {
    const x = integers ? rng.int(7) - 3 : rng.normal();
    for (const v of views) v.f32[S + i] = i % 29 === 5 ? Number.NaN : x;
  }
  for (let r = 0; r < rows; r++) {
    const a = rng.int(20);
    const b = Math.max(a, 64 - rng.int(25));
    for (const v of views) {
      v.i32[JA + r] = r % 7 === 3 ? 0 : a;
      v.i32[JB + r] = r % 7 === 3 ? 0 : b;
    }
  }
  for (let j = 0; j < TILE; j++) for (const v of views) v.i32[KEYS + j] = 1000 + 3 * (tile * TILE + j);
}

describe.each(['simd128', 'relaxed'] as const)('scores kernels: wasm (%s) and ts agree with an oracle', (variant) => {
  for (const integers of [true, false]) {
    it(`statistics, top-k, threshold bits and column maxima over 3 tiles (${integers ? 'integer ties' : 'random'} scores)`, () => {
      const pairs = both(variant);
      const views = pairs.map(([, v]) => v);
      const rows = 13;
      const k = 9;
      const cap = 2 * k;
      // Oracle state per row: every visible (score, key) seen so far.
      const seen: { v: number; key: number }[][] = Array.from({ length: rows }, () => []);
      for (const v of views) {
        for (let r = 0; r < rows; r++) {
          const rec = STATS + r * STAT_INTS;
          v.f32[rec] = Number.NEGATIVE_INFINITY;
          v.i32[rec + 1] = -1;
          v.f32[rec + 2] = Number.POSITIVE_INFINITY;
          v.i32[rec + 3] = -1;
          v.f64.fill(0, (rec + 4) >> 1, (rec + 10) >> 1);
          v.i32[COUNTS + r] = 0;
          v.f64[(T >> 1) + r] = integers ? r % 4 : (r % 5) * 0.4 - 0.8;
        }
        v.i32.fill(0, FLOORS, FLOORS + 2 * rows);
        v.i32.fill(0, WORDS, WORDS + rows * 6);
        v.f32.fill(Number.NEGATIVE_INFINITY, COL, COL + 3 * TILE);
      }
      for (let tile = 0; tile < 3; tile++) {
        fillTile(views, 7 * tile + (integers ? 1 : 2), rows, integers, tile);
        const tv = views[0] as MemoryViews;
        for (let r = 0; r < rows; r++) {
          for (let j = tv.i32[JA + r] as number; j < (tv.i32[JB + r] as number); j++) {
            seen[r]?.push({ v: tv.f32[S + r * TILE + j] as number, key: tv.i32[KEYS + j] as number });
          }
        }
        for (const [kern] of pairs) {
          kern.rowStats(S, rows, JA, JB, KEYS, STATS, 7);
          kern.rowTopK(S, rows, JA, JB, KEYS, BUF, cap, k, COUNTS, FLOORS);
          kern.rowAtLeast(S, rows, JA, JB, T, WORDS, 6, 2 * tile);
          kern.colMaxRows(S, rows, JA, JB, COL + tile * TILE);
        }
      }
      for (const [kern, v] of pairs) {
        for (let r = 0; r < rows; r++) kern.rowTopKFinish(BUF + r * 2 * cap, v.i32[COUNTS + r] as number, k, OUT_V + r * k, OUT_I + r * k);
      }
      const [[, w], [, t]] = pairs as [[Kernels, MemoryViews], [Kernels, MemoryViews]];
      expect(Array.from(w.i32.subarray(STATS, STATS + rows * STAT_INTS))).toEqual(
        Array.from(t.i32.subarray(STATS, STATS + rows * STAT_INTS)),
      );
      expect(Array.from(w.i32.subarray(OUT_I, OUT_I + rows * k))).toEqual(Array.from(t.i32.subarray(OUT_I, OUT_I + rows * k)));
      expect(Array.from(w.f32.subarray(OUT_V, OUT_V + rows * k))).toEqual(Array.from(t.f32.subarray(OUT_V, OUT_V + rows * k)));
      expect(Array.from(w.i32.subarray(WORDS, WORDS + rows * 6))).toEqual(Array.from(t.i32.subarray(WORDS, WORDS + rows * 6)));
      expect(Array.from(w.f32.subarray(COL, COL + 3 * TILE))).toEqual(Array.from(t.f32.subarray(COL, COL + 3 * TILE)));
      for (let r = 0; r < rows; r++) {
        const all = seen[r] as { v: number; key: number }[];
        const valid = all.filter((c) => c.v > Number.NEGATIVE_INFINITY);
        const rec = STATS + r * STAT_INTS;
        let max = Number.NEGATIVE_INFINITY;
        let maxKey = -1;
        let min = Number.POSITIVE_INFINITY;
        let minKey = -1;
        let sum = 0;
        for (const c of all) {
          if (c.v > max) [max, maxKey] = [c.v, c.key];
          if (c.v < min) [min, minKey] = [c.v, c.key];
          sum += c.v;
        }
        expect([t.f32[rec], t.i32[rec + 1], t.f32[rec + 2], t.i32[rec + 3]]).toEqual([max, maxKey, min, minKey]);
        expect(t.f64[(rec + 4) >> 1]).toBe(all.length);
        expect(Object.is(t.f64[(rec + 6) >> 1], sum) || (Number.isNaN(sum) && Number.isNaN(t.f64[(rec + 6) >> 1] as number))).toBe(true);
        const order = [...valid].sort((a, b) => b.v - a.v || a.key - b.key).slice(0, k);
        expect(Array.from(t.i32.subarray(OUT_I + r * k, OUT_I + r * k + order.length))).toEqual(order.map((c) => c.key));
        const threshold = t.f64[(T >> 1) + r] as number;
        for (const c of all) {
          const slot = (c.key - 1000) / 3;
          const bit = ((t.i32[WORDS + r * 6 + (slot >> 5)] as number) >>> (slot & 31)) & 1;
          expect(bit).toBe(c.v >= threshold ? 1 : 0);
        }
      }
    });
  }

  it.each([12, 64])(
    'columnMaxTile equals gatherRows, scoreBlock then rowMaxInto (37 listed keys, 27 rows padded to 32 with row 0, dp %i)',
    (dp) => {
      const n = 37;
      const cols = 27;
      const SCR = 300_000;
      const GATHERED = 100_000;
      const fused: Float32Array[] = [];
      for (const [kern, v] of both(variant)) {
        kern.configure(dp);
        const rng = createRng(41);
        for (let i = 0; i < 100 * dp; i++) v.f32[S + i] = rng.normal();
        // Scattered rows, one listed twice; the slots past the n-th hold an index far outside memory, never read.
        for (let j = 0; j < n; j++) v.i32[KEYS + j] = j === 20 ? 5 : (j * 29 + 5) % 100;
        v.i32.fill(1 << 28, KEYS + n, KEYS + 64);
        for (let c = 0; c < dp; c++) {
          for (let r = 0; r < cols; r++) v.f32[BUF + c * TILE + r] = rng.normal();
          for (let r = cols; r < 32; r++) v.f32[BUF + c * TILE + r] = v.f32[BUF + c * TILE] as number;
        }
        // Earlier maxima: some keys already hold a larger value, which must stay.
        const before = Float32Array.from({ length: n }, (_, j) => (j % 5 === 0 ? 50 : j % 5 === 1 ? Number.NEGATIVE_INFINITY : -50));
        v.f32.set(before, COL);
        v.f32.set(before, COL + 100);
        kern.columnMaxTile(SCR, S, KEYS, n, BUF, cols, COL, 0.75);
        kern.gatherRows(GATHERED, S, KEYS, n);
        kern.scoreBlock(SCR, GATHERED, n, BUF, cols, T, TILE, 0.75);
        kern.rowMaxInto(T, n, cols, COL + 100);
        const got = v.f32.slice(COL, COL + n);
        expect(Array.from(got)).toEqual(Array.from(v.f32.subarray(COL + 100, COL + 100 + n)));
        expect(got.every((x, j) => (j % 5 === 0 ? x === 50 : x > -50 && x < 50))).toBe(true);
        fused.push(got);
      }
      const [wasm, ts] = fused as [Float32Array, Float32Array];
      for (let j = 0; j < n; j++) expect(wasm[j]).toBeCloseTo(ts[j] as number, 4);
    },
  );

  it('gathers key rows into a transposed tile', () => {
    const pairs = both(variant);
    const dp = 12;
    for (const [kern, v] of pairs) {
      for (let i = 0; i < 100 * dp; i++) v.f32[S + i] = i * 0.5;
      for (let j = 0; j < 9; j++) v.i32[KEYS + j] = 7 * j + 3;
      kern.configure(dp);
      kern.gatherKeys(BUF, S, KEYS, 9);
      for (let j = 0; j < 9; j++) for (let c = 0; c < dp; c++) expect(v.f32[BUF + c * TILE + j]).toBe(((7 * j + 3) * dp + c) * 0.5);
    }
  });
});
