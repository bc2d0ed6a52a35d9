import { createRng } from '@sparseland/core/kit';
import { beforeAll, describe, expect, it } from 'vitest';
import { relaxedSimdReason } from '../src/environment.js';
import type { Kernels } from '../src/kernels.js';
import { MODE_BITMAP, MODE_CAUSAL, MODE_POSITIONS } from '../src/kernels.js';
import { scratchFloats, scratchLayout, TILE } from '../src/scratch-layout.js';
import { createTsKernels, createViews, type MemoryViews } from '../src/ts-kernels.js';
import { instantiateKernels, kernelBytes, kernelModule, type SimdVariant, withUnsharedMemoryImport } from '../src/wasm/wasm-module.js';

// The WebAssembly kernels (both builds: SIMD128 and relaxed SIMD) and their TypeScript twins side by side on the
// same memory contents: every tile operation, odd row and key counts, every mask mode. Both are also checked
// against float64 arithmetic here.

// Node 20 keeps relaxed SIMD behind a V8 flag: the backend's detection sets it (and self-tests the build) first.
beforeAll(async () => {
  expect(await relaxedSimdReason()).toBeUndefined();
});

function pair(variant: SimdVariant): { wasm: Kernels; ts: Kernels; wv: MemoryViews; tv: MemoryViews } {
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
  const wv = createViews(memory.buffer);
  const tv = createViews(new SharedArrayBuffer(64 * 65536));
  return { wasm: instantiateKernels(kernelModule(variant, true), memory), ts: createTsKernels(tv), wv, tv };
}

function fillRandom(views: MemoryViews[], from: number, count: number, seed: number): void {
  const rng = createRng(seed);
  for (let i = 0; i < count; i++) {
    const x = rng.normal();
    for (const v of views) v.f32[from + i] = x;
  }
}

const SCR = 100_000;
const ROWS = 1000;
const Q = 2000;
const KT = 40_000;
const V = 60_000;
const POS = 90_000;
const BITS = 95_000;

describe.each(['simd128', 'relaxed'] as const)('tile kernels: wasm (%s) and ts agree', (variant) => {
  for (const dp of [4, 8, 12, 64]) {
    for (const [rows, n] of [
      [1, 1],
      [3, 7],
      [5, 13],
      [64, 64],
      [17, 33],
    ] as const) {
      for (const mode of [0, MODE_CAUSAL, MODE_BITMAP, MODE_CAUSAL | MODE_POSITIONS, MODE_CAUSAL | MODE_BITMAP]) {
        it(`dp ${dp}, ${rows} rows × ${n} keys, mode ${mode}`, () => {
          const { wasm, ts, wv, tv } = pair(variant);
          const both = [wv, tv];
          fillRandom(both, Q, 70 * dp, dp + rows);
          fillRandom(both, KT, TILE * dp, n + 1);
          fillRandom(both, V, TILE * dp, n + 2);
          const rng = createRng(rows * 31 + n);
          for (const v of both) {
            for (let r = 0; r < rows; r++) v.i32.set([Q + r * dp, 120_000 + r * dp, 130_000 + 2 * r, 10 + r], ROWS + 4 * r);
          }
          for (let j = 0; j < n; j++) for (const v of both) v.i32[POS + j] = 5 + 2 * j;
          for (let w = 0; w < 2 * rows; w++) {
            const bits = (rng.next() * 2 ** 32) | 0;
            for (const v of both) v.i32[BITS + w] = bits;
          }
          for (const k of [wasm, ts]) {
            k.configure(dp);
            k.begin(SCR, ROWS, rows, 0.3);
            k.tile(SCR, rows, KT, V, n, mode, 8, mode & MODE_POSITIONS ? POS : -1, BITS);
            k.tile(SCR, rows, KT, V, n, mode, 8, mode & MODE_POSITIONS ? POS : -1, BITS);
            k.finish(SCR, ROWS, rows);
          }
          for (let r = 0; r < rows; r++) {
            for (let c = 0; c < dp; c++) {
              expect(wv.f32[120_000 + r * dp + c]).toBeCloseTo(tv.f32[120_000 + r * dp + c] as number, 4);
            }
            const [mw, lw, mt, lt] = [wv.f32[130_000 + 2 * r], wv.f32[130_001 + 2 * r], tv.f32[130_000 + 2 * r], tv.f32[130_001 + 2 * r]];
            expect(mw).toBeCloseTo(mt as number, 5);
            expect(lw).toBeCloseTo(lt as number, 4);
          }
        });
      }
    }
  }

  it('scores of one tile match float64 dot products', () => {
    const { wasm, ts, wv, tv } = pair(variant);
    const dp = 12;
    fillRandom([wv, tv], Q, 8 * dp, 1);
    fillRandom([wv, tv], KT, TILE * dp, 2);
    for (const [k, v] of [
      [wasm, wv],
      [ts, tv],
    ] as const) {
      k.configure(dp);
      k.scoreBlock(SCR, Q, 5, KT, 11, 70_000, 11, 0.5);
      for (let r = 0; r < 5; r++) {
        for (let j = 0; j < 11; j++) {
          let want = 0;
          for (let c = 0; c < dp; c++) want += (v.f32[Q + r * dp + c] as number) * (v.f32[KT + c * TILE + j] as number);
          expect(v.f32[70_000 + r * 11 + j]).toBeCloseTo(0.5 * want, 4);
        }
      }
    }
  });

  it('quantised scores are exact integer dot products times the scales', () => {
    const { wasm, ts, wv, tv } = pair(variant);
    const stride = 16;
    const rng = createRng(3);
    for (let i = 0; i < 7 * stride; i++) {
      const a = rng.int(255) - 127;
      const b = rng.int(15) - 7;
      for (const v of [wv, tv]) {
        v.i8[4 * Q + i] = a;
        v.i8[4 * KT + i] = b;
      }
    }
    for (const v of [wv, tv]) {
      for (let i = 0; i < 8; i++) {
        v.f32[POS + i] = 0.5 + i;
        v.f32[BITS + i] = 1 / (i + 1);
      }
    }
    for (const [k, v] of [
      [wasm, wv],
      [ts, tv],
    ] as const) {
      k.quantScores(4 * Q, 3, 4 * KT, 7, stride, POS, BITS, 70_000, 7);
      for (let r = 0; r < 3; r++) {
        for (let j = 0; j < 7; j++) {
          let dot = 0;
          for (let c = 0; c < stride; c++) dot += (v.i8[4 * Q + r * stride + c] as number) * (v.i8[4 * KT + j * stride + c] as number);
          expect(v.f32[70_000 + r * 7 + j]).toBeCloseTo(dot * (0.5 + r) * (1 / (j + 1)), 3);
        }
      }
    }
  });

  it.each([8, 64])('probeTile and probeTileSums give the float64 probe sums (3 tiles, odd ends, empty rows; dp %i)', (dp) => {
    const { wasm, ts, wv, tv } = pair(variant);
    const n = 150;
    const tiles = Math.ceil(n / TILE);
    // Last keys: all, into the second tile, the first tile's end, one key, none (its stats only).
    const lasts = [149, 130, 63, 0, -1];
    const rows = lasts.length;
    const [OUT, LAST, STATS, VERTICAL, SLASH] = [3000, 2900, 80_000, 150_000, 151_000];
    const slashBase = SLASH + n;
    const scale = 0.4;
    fillRandom([wv, tv], Q, rows * dp, 21);
    fillRandom([wv, tv], KT, tiles * TILE * dp, 22);
    const key = (v: MemoryViews, j: number, c: number) => v.f32[KT + (j >> 6) * TILE * dp + c * TILE + (j & 63)] as number;
    // The float64 oracle: softmax of scale · q · k over each row's keys, summed by column and by diagonal.
    const vertical = new Float64Array(n);
    const slash = new Float64Array(2 * n);
    lasts.forEach((last, r) => {
      const x = Array.from({ length: last + 1 }, (_, j) => {
        let dot = 0;
        for (let c = 0; c < dp; c++) dot += (wv.f32[Q + r * dp + c] as number) * key(wv, j, c);
        return scale * dot;
      });
      const m = Math.max(...x);
      const total = x.reduce((a, v) => a + Math.exp(v - m), 0);
      x.forEach((v, j) => {
        vertical[j] = (vertical[j] as number) + Math.exp(v - m) / total;
        slash[n + r - j] = (slash[n + r - j] as number) + Math.exp(v - m) / total;
      });
    });
    for (const [k, v] of [
      [wasm, wv],
      [ts, tv],
    ] as const) {
      v.i32.set(lasts, LAST);
      v.f32.fill(Number.NaN, OUT, OUT + rows * n);
      v.f64.fill(0, VERTICAL, VERTICAL + n);
      v.f64.fill(0, SLASH, SLASH + 2 * n);
      k.configure(dp);
      for (let t = 0; t < tiles; t++) {
        const k0 = t * TILE;
        k.probeTile(SCR, Q, rows, KT + t * TILE * dp, Math.min(TILE, n - k0), LAST, k0, OUT + k0, n, scale, STATS + 2 * t, 2 * tiles);
      }
      lasts.forEach((last, r) => {
        if (last >= 0) k.probeTileSums(OUT + r * n, last + 1, STATS + r * 2 * tiles, VERTICAL, slashBase + r);
      });
      // A row with no key in a tile: maximum −Infinity, sum 0, and its output untouched.
      expect([v.f32[STATS + 3 * 2 * tiles + 2], v.f32[STATS + 3 * 2 * tiles + 3]]).toEqual([Number.NEGATIVE_INFINITY, 0]);
      expect(v.f32[OUT + 3 * n + 1]).toBeNaN();
      for (let t = 0; t < tiles; t++) expect(v.f32[STATS + 4 * 2 * tiles + 2 * t]).toBe(Number.NEGATIVE_INFINITY);
      for (let j = 0; j < n; j++) expect(Math.abs((v.f64[VERTICAL + j] as number) - (vertical[j] as number))).toBeLessThan(2e-6);
      for (let i = 0; i < 2 * n; i++) expect(Math.abs((v.f64[SLASH + i] as number) - (slash[i] as number))).toBeLessThan(2e-6);
    }
  });

  it('softmaxRow and colMax agree', () => {
    const { wasm, ts, wv, tv } = pair(variant);
    fillRandom([wv, tv], Q, 200, 9);
    for (const k of [wasm, ts]) k.softmaxRow(Q, 37);
    for (const k of [wasm, ts]) k.colMax(Q + 50, 3, 8, 20, 80_000);
    let sum = 0;
    for (let j = 0; j < 37; j++) {
      expect(wv.f32[Q + j]).toBeCloseTo(tv.f32[Q + j] as number, 6);
      sum += wv.f32[Q + j] as number;
    }
    expect(sum).toBeCloseTo(1, 5);
    for (let j = 0; j < 8; j++) expect(wv.f32[80_000 + j]).toBe(tv.f32[80_000 + j]);
  });
});

describe.each(['simd128', 'relaxed'] as const)('layout and module (%s)', (variant) => {
  it('the wasm scratch size and the TS layout agree', () => {
    const { wasm } = pair(variant);
    for (const dp of [4, 8, 64, 132]) {
      expect((wasm as unknown as { scratchFloats(dp: number): number }).scratchFloats(dp)).toBe(scratchFloats(dp));
      const l = scratchLayout(0, dp);
      expect(l.gpos + TILE).toBe(scratchFloats(dp));
    }
  });

  it('the kernels can run on a non-shared memory (pages that are not cross-origin isolated)', () => {
    const patched = withUnsharedMemoryImport(kernelBytes(variant));
    expect(patched.length).toBe(kernelBytes(variant).length);
    const memory = new WebAssembly.Memory({ initial: 8, maximum: 16384 });
    const k = instantiateKernels(new WebAssembly.Module(patched as BufferSource), memory);
    const v = createViews(memory.buffer);
    v.f32.set([2, 3, 4, 5], 100);
    k.softmaxRow(100, 4);
    expect(v.f32[103]).toBeCloseTo(Math.exp(5) / (Math.exp(2) + Math.exp(3) + Math.exp(4) + Math.exp(5)), 6);
    expect(() => new WebAssembly.Instance(kernelModule(variant, true), { env: { memory } })).toThrow();
  });

  it('the shipped module keeps no data segments (every worker instantiates it on one shared memory)', () => {
    const bytes = kernelBytes(variant);
    let at = 8;
    const sections: number[] = [];
    while (at < bytes.length) {
      const id = bytes[at++] as number;
      let size = 0;
      let shift = 0;
      for (;;) {
        const b = bytes[at++] as number;
        size |= (b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
      }
      sections.push(id);
      at += size;
    }
    expect(sections).not.toContain(11);
  });

  it('only the relaxed build uses f32x4.relaxed_madd, and it computes a·b + c fused or unfused', () => {
    // f32x4.relaxed_madd is opcode 0xfd 0x105 (LEB128: fd 85 02).
    const bytes = kernelBytes(variant);
    let madds = 0;
    for (let i = 0; i + 2 < bytes.length; i++) if (bytes[i] === 0xfd && bytes[i + 1] === 0x85 && bytes[i + 2] === 0x02) madds++;
    if (variant === 'relaxed') expect(madds).toBeGreaterThan(10);
    else expect(madds).toBe(0);
    // One score of head dim 4: acc = 1·(−(1 + 2⁻²²)), then acc + (1 + 2⁻²³)². Rounding the product first (mul, add)
    // gives exactly 0; a fused multiply-add keeps the 2⁻⁴⁶ the product's rounding would drop. Either is allowed
    // for the relaxed build; the SIMD128 build must give 0.
    const { wasm, wv } = pair(variant);
    const e = 2 ** -23;
    wv.f32.set([1, 1 + e, 0, 0], Q);
    wv.f32.fill(0, KT, KT + 4 * TILE);
    wv.f32[KT] = -(1 + 2 * e);
    wv.f32[KT + TILE] = 1 + e;
    wasm.configure(4);
    wasm.scoreBlock(SCR, Q, 1, KT, 1, 70_000, 1, 1);
    const got = wv.f32[70_000];
    if (variant === 'relaxed') expect([0, 2 ** -46]).toContain(got);
    else expect(got).toBe(0);
  });
});
