import type { Kernels } from './kernels.js';
import { MODE_BITMAP, MODE_CAUSAL, MODE_POSITIONS } from './kernels.js';
import { scratchLayout, TILE } from './scratch-layout.js';
import { createTsScoreKernels } from './ts-score-kernels.js';

/** Typed views of the shared memory; the owner replaces them when the memory grows or is replaced. */
export interface MemoryViews {
  f32: Float32Array;
  i32: Int32Array;
  i8: Int8Array;
  f64: Float64Array;
}

export function createViews(buffer: ArrayBufferLike): MemoryViews {
  return { f32: new Float32Array(buffer), i32: new Int32Array(buffer), i8: new Int8Array(buffer), f64: new Float64Array(buffer) };
}

/**
 * The TypeScript implementation of the tile operations (see assembly/kernels.ts for each contract). Scalar code
 * with register blocking (2 rows × 4 keys for scores, 4 keys per step for P·V) and no allocation per call: this
 * is the shape that performance.md measured fastest for plain JS.
 */
export function createTsKernels(views: MemoryViews): Kernels {
  let dp = 0;

  function scores(q: number, rows: number, kt: number, n: number, out: number, scale: number): void {
    const f = views.f32;
    const d = dp;
    let r = 0;
    for (; r + 1 < rows; r += 2) {
      const q0 = q + r * d;
      const q1 = q0 + d;
      const o0 = out + r * TILE;
      const o1 = o0 + TILE;
      let j = 0;
      for (; j + 3 < n; j += 4) {
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let b0 = 0;
        let b1 = 0;
        let b2 = 0;
        let b3 = 0;
        let kp = kt + j;
        for (let c = 0; c < d; c++, kp += TILE) {
          const x = f[q0 + c] as number;
          const y = f[q1 + c] as number;
          const k0 = f[kp] as number;
          const k1 = f[kp + 1] as number;
          const k2 = f[kp + 2] as number;
          const k3 = f[kp + 3] as number;
          a0 += x * k0;
          a1 += x * k1;
          a2 += x * k2;
          a3 += x * k3;
          b0 += y * k0;
          b1 += y * k1;
          b2 += y * k2;
          b3 += y * k3;
        }
        f[o0 + j] = a0 * scale;
        f[o0 + j + 1] = a1 * scale;
        f[o0 + j + 2] = a2 * scale;
        f[o0 + j + 3] = a3 * scale;
        f[o1 + j] = b0 * scale;
        f[o1 + j + 1] = b1 * scale;
        f[o1 + j + 2] = b2 * scale;
        f[o1 + j + 3] = b3 * scale;
      }
      for (; j < n; j++) {
        let a = 0;
        let b = 0;
        for (let c = 0, kp = kt + j; c < d; c++, kp += TILE) {
          a += (f[q0 + c] as number) * (f[kp] as number);
          b += (f[q1 + c] as number) * (f[kp] as number);
        }
        f[o0 + j] = a * scale;
        f[o1 + j] = b * scale;
      }
    }
    for (; r < rows; r++) {
      const q0 = q + r * d;
      const o0 = out + r * TILE;
      for (let j = 0; j < n; j++) {
        let a = 0;
        for (let c = 0, kp = kt + j; c < d; c++, kp += TILE) a += (f[q0 + c] as number) * (f[kp] as number);
        f[o0 + j] = a * scale;
      }
    }
  }

  function tileScores(scr: number, rows: number, kt: number, n: number, mode: number, pos0: number, posList: number, bitmap: number): void {
    const L = scratchLayout(scr, dp);
    scores(L.qs, rows, kt, n, L.s, 1);
    const f = views.f32;
    const i = views.i32;
    const n8 = (n + 7) & ~7;
    for (let r = 0; r < rows; r++) {
      const s = L.s + r * TILE;
      f.fill(Number.NEGATIVE_INFINITY, s + n, s + n8);
      if (mode & MODE_CAUSAL) {
        const rowPos = i[L.pos + r] as number;
        let first = n;
        if (mode & MODE_POSITIONS) {
          while (first > 0 && (i[posList + first - 1] as number) > rowPos) first--;
        } else {
          first = Math.min(n, Math.max(0, rowPos - pos0 + 1));
        }
        if (first < n) f.fill(Number.NEGATIVE_INFINITY, s + first, s + n);
      }
      if (mode & MODE_BITMAP) {
        const lo = i[bitmap + r * 2] as number;
        const hi = i[bitmap + r * 2 + 1] as number;
        for (let j = 0; j < n; j++) {
          const word = j < 32 ? lo : hi;
          if (((word >>> (j & 31)) & 1) === 0) f[s + j] = Number.NEGATIVE_INFINITY;
        }
      }
    }
  }

  function tileUpdate(scr: number, rows: number, v: number, n: number): void {
    const L = scratchLayout(scr, dp);
    const f = views.f32;
    const d = dp;
    for (let r = 0; r < rows; r++) {
      const s = L.s + r * TILE;
      let mNew = f[L.m + r] as number;
      const mOld = mNew;
      for (let j = 0; j < n; j++) if ((f[s + j] as number) > mNew) mNew = f[s + j] as number;
      if (mNew === Number.NEGATIVE_INFINITY) continue;
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const p = Math.exp((f[s + j] as number) - mNew);
        f[s + j] = p;
        sum += p;
      }
      const alpha = mOld === Number.NEGATIVE_INFINITY ? 0 : Math.exp(mOld - mNew);
      f[L.l + r] = (f[L.l + r] as number) * alpha + sum;
      f[L.m + r] = mNew;
      const a = L.acc + r * d;
      if (alpha !== 1) for (let c = 0; c < d; c++) f[a + c] = (f[a + c] as number) * alpha;
      let j = 0;
      for (; j + 3 < n; j += 4) {
        const p0 = f[s + j] as number;
        const p1 = f[s + j + 1] as number;
        const p2 = f[s + j + 2] as number;
        const p3 = f[s + j + 3] as number;
        const v0 = v + j * d;
        const v1 = v0 + d;
        const v2 = v1 + d;
        const v3 = v2 + d;
        for (let c = 0; c < d; c++) {
          f[a + c] =
            (f[a + c] as number) +
            p0 * (f[v0 + c] as number) +
            p1 * (f[v1 + c] as number) +
            p2 * (f[v2 + c] as number) +
            p3 * (f[v3 + c] as number);
        }
      }
      for (; j < n; j++) {
        const p = f[s + j] as number;
        const vj = v + j * d;
        for (let c = 0; c < d; c++) f[a + c] = (f[a + c] as number) + p * (f[vj + c] as number);
      }
    }
  }

  const scoreKernels = createTsScoreKernels(views, () => dp);
  return {
    ...scoreKernels,
    configure(paddedDim) {
      dp = paddedDim;
    },
    begin(scr, rowTable, rows, scale) {
      const L = scratchLayout(scr, dp);
      const f = views.f32;
      const i = views.i32;
      const padded = (rows + 3) & ~3;
      for (let r = 0; r < padded; r++) {
        const dst = L.qs + r * dp;
        if (r < rows) {
          const src = i[rowTable + r * 4] as number;
          for (let c = 0; c < dp; c++) f[dst + c] = (f[src + c] as number) * scale;
          i[L.pos + r] = i[rowTable + r * 4 + 3] as number;
        } else {
          f.fill(0, dst, dst + dp);
          i[L.pos + r] = 0x7fffffff;
        }
        f.fill(0, L.acc + r * dp, L.acc + (r + 1) * dp);
        f[L.m + r] = Number.NEGATIVE_INFINITY;
        f[L.l + r] = 0;
      }
    },
    tileScores,
    tileUpdate,
    tile(scr, rows, kt, v, n, mode, pos0, posList, bitmap) {
      tileScores(scr, rows, kt, n, mode, pos0, posList, bitmap);
      tileUpdate(scr, rows, v, n);
    },
    prefetch() {
      // A cache hint for the WebAssembly kernels; typed-array code has nothing to gain from it.
    },
    prefetchRows() {
      // A cache hint for the WebAssembly kernels only.
    },
    finish(scr, rowTable, rows) {
      const L = scratchLayout(scr, dp);
      const f = views.f32;
      const i = views.i32;
      for (let r = 0; r < rows; r++) {
        const out = i[rowTable + r * 4 + 1] as number;
        const stat = i[rowTable + r * 4 + 2] as number;
        const sum = f[L.l + r] as number;
        const inv = sum > 0 ? 1 / sum : 0;
        const a = L.acc + r * dp;
        for (let c = 0; c < dp; c++) f[out + c] = (f[a + c] as number) * inv;
        f[stat] = f[L.m + r] as number;
        f[stat + 1] = sum;
      }
    },
    gather(scr, kp, v, cols, count) {
      const L = scratchLayout(scr, dp);
      const f = views.f32;
      const i = views.i32;
      for (let j = 0; j < count; j++) {
        const k = i[cols + j] as number;
        i[L.gpos + j] = k;
        const src = kp + (k >> 6) * TILE * dp + (k & 63);
        for (let c = 0; c < dp; c++) f[L.kg + c * TILE + j] = f[src + c * TILE] as number;
        f.copyWithin(L.vg + j * dp, v + k * dp, v + (k + 1) * dp);
      }
    },
    unpackTile(scr, desc, t0, count) {
      const L = scratchLayout(scr, dp);
      const f = views.f32;
      const i = views.i32;
      const b = views.i8;
      const bits = i[desc] as number;
      const dim = i[desc + 1] as number;
      const keyGroup = i[desc + 2] as number;
      const valueGroup = i[desc + 3] as number;
      const valueGroups = i[desc + 4] as number;
      const rowBytes = i[desc + 5] as number;
      const keyCodes = i[desc + 6] as number;
      const keyScale = i[desc + 7] as number;
      const keyMin = i[desc + 8] as number;
      const valueCodes = i[desc + 9] as number;
      const valueScale = i[desc + 10] as number;
      const valueMin = i[desc + 11] as number;
      // Bytes are read signed; the shift and mask keep only the code's own bits.
      const mask = (1 << bits) - 1;
      for (let j = 0; j < count; j++) {
        const t = t0 + j;
        const kg = Math.floor(t / keyGroup) * dim;
        const kRow = keyCodes + t * rowBytes;
        const vRow = valueCodes + t * rowBytes;
        const vs = valueScale + t * valueGroups;
        const vm = valueMin + t * valueGroups;
        const vDst = L.vg + j * dp;
        for (let c = 0; c < dim; c++) {
          const bit = c * bits;
          const shift = bit & 7;
          const kc = ((b[kRow + (bit >> 3)] as number) >> shift) & mask;
          const vc = ((b[vRow + (bit >> 3)] as number) >> shift) & mask;
          f[L.kg + c * TILE + j] = kc * (f[keyScale + kg + c] as number) + (f[keyMin + kg + c] as number);
          const gi = Math.floor(c / valueGroup);
          f[vDst + c] = vc * (f[vs + gi] as number) + (f[vm + gi] as number);
        }
        for (let c = dim; c < dp; c++) {
          f[L.kg + c * TILE + j] = 0;
          f[vDst + c] = 0;
        }
      }
    },
    scoreBlock(scr, q, rows, kt, n, out, outStride, scale) {
      const L = scratchLayout(scr, dp);
      scores(q, rows, kt, n, L.s, scale);
      const f = views.f32;
      for (let r = 0; r < rows; r++) f.copyWithin(out + r * outStride, L.s + r * TILE, L.s + r * TILE + n);
    },
    columnMaxTile(scr, k, keyIdx, n, bt, cols, dst, scale) {
      // What the WebAssembly kernel computes in registers: the listed rows gathered (into KG, 64 rows of dp), their
      // scaled scores against the group's rows, each key's maximum folded in.
      const L = scratchLayout(scr, dp);
      scoreKernels.gatherRows(L.kg, k, keyIdx, n);
      scores(L.kg, n, bt, cols, L.s, scale);
      scoreKernels.rowMaxInto(L.s, n, cols, dst);
    },
    probeTile(scr, q, rows, kt, n, last, k0, out, outStride, scale, stats, statStride) {
      const L = scratchLayout(scr, dp);
      scores(q, rows, kt, n, L.s, scale);
      const f = views.f32;
      for (let r = 0; r < rows; r++) {
        const st = stats + r * statStride;
        const nr = Math.min(n, (views.i32[last + r] as number) - k0 + 1);
        if (nr <= 0) {
          f[st] = Number.NEGATIVE_INFINITY;
          f[st + 1] = 0;
          continue;
        }
        const s = L.s + r * TILE;
        const o = out + r * outStride;
        let m = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < nr; j++) m = Math.max(m, f[s + j] as number);
        let sum = 0;
        for (let j = 0; j < nr; j++) {
          f[o + j] = Math.exp((f[s + j] as number) - m);
          sum += f[o + j] as number;
        }
        f[st] = m;
        f[st + 1] = sum;
      }
    },
    probeTileSums(row, n, stats, vertical, s) {
      const f = views.f32;
      const d = views.f64;
      const tiles = Math.ceil(n / TILE);
      let mMax = Number.NEGATIVE_INFINITY;
      for (let t = 0; t < tiles; t++) mMax = Math.max(mMax, f[stats + 2 * t] as number);
      let total = 0;
      for (let t = 0; t < tiles; t++) {
        f[stats + 2 * t] = Math.exp((f[stats + 2 * t] as number) - mMax);
        total += (f[stats + 2 * t + 1] as number) * (f[stats + 2 * t] as number);
      }
      for (let t = 0; t < tiles; t++) {
        const c = Math.fround((f[stats + 2 * t] as number) / total);
        for (let j = t * TILE; j < Math.min(n, (t + 1) * TILE); j++) {
          const p = Math.fround((f[row + j] as number) * c);
          d[vertical + j] = (d[vertical + j] as number) + p;
          d[s - j] = (d[s - j] as number) + p;
        }
      }
    },
    softmaxRow(row, count) {
      const f = views.f32;
      let m = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < count; j++) if ((f[row + j] as number) > m) m = f[row + j] as number;
      let sum = 0;
      for (let j = 0; j < count; j++) {
        const e = Math.exp((f[row + j] as number) - m);
        f[row + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < count; j++) f[row + j] = (f[row + j] as number) * inv;
    },
    quantScores(qi, rows, ki, n, stride, rowScale, keyScale, out, outStride) {
      const b = views.i8;
      const f = views.f32;
      for (let r = 0; r < rows; r++) {
        const q0 = qi + r * stride;
        const sq = f[rowScale + r] as number;
        const o = out + r * outStride;
        let j = 0;
        for (; j + 3 < n; j += 4) {
          const k0 = ki + j * stride;
          const k1 = k0 + stride;
          const k2 = k1 + stride;
          const k3 = k2 + stride;
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          let a3 = 0;
          for (let c = 0; c < stride; c++) {
            const x = b[q0 + c] as number;
            a0 += x * (b[k0 + c] as number);
            a1 += x * (b[k1 + c] as number);
            a2 += x * (b[k2 + c] as number);
            a3 += x * (b[k3 + c] as number);
          }
          f[o + j] = a0 * sq * (f[keyScale + j] as number);
          f[o + j + 1] = a1 * sq * (f[keyScale + j + 1] as number);
          f[o + j + 2] = a2 * sq * (f[keyScale + j + 2] as number);
          f[o + j + 3] = a3 * sq * (f[keyScale + j + 3] as number);
        }
        for (; j < n; j++) {
          const k0 = ki + j * stride;
          let a = 0;
          for (let c = 0; c < stride; c++) a += (b[q0 + c] as number) * (b[k0 + c] as number);
          f[o + j] = a * sq * (f[keyScale + j] as number);
        }
      }
    },
    quantBiasColMaxT(qi, rows, kt, n, stride, rowScale, keyScale, rowBias, last, dst) {
      const b = views.i8;
      const f = views.f32;
      const li = views.i32;
      f.fill(Number.NEGATIVE_INFINITY, dst, dst + n);
      for (let r = 0; r < rows; r++) {
        const q0 = qi + r * stride;
        const sq = f[rowScale + r] as number;
        const bias = f[rowBias + r] as number;
        const lastKey = Math.min(n - 1, li[last + r] as number);
        for (let j = 0; j <= lastKey; j++) {
          // Key j of its group of 8, channels interleaved by pairs: 16 bytes per pair.
          const kg = kt + (j >> 3) * 8 * stride + (j & 7) * 2;
          let a = 0;
          for (let c = 0; c < stride; c++) a += (b[q0 + c] as number) * (b[kg + (c >> 1) * 16 + (c & 1)] as number);
          // Math.fround at each step: the WebAssembly kernel multiplies and subtracts in float32.
          const v = Math.fround(Math.fround(Math.fround(a * sq) * (f[keyScale + j] as number)) - bias);
          if (v > (f[dst + j] as number)) f[dst + j] = v;
        }
      }
    },
    colMax(src, rows, n, stride, dst) {
      const f = views.f32;
      f.fill(Number.NEGATIVE_INFINITY, dst, dst + n);
      for (let r = 0; r < rows; r++) {
        const s = src + r * stride;
        for (let j = 0; j < n; j++) if ((f[s + j] as number) > (f[dst + j] as number)) f[dst + j] = f[s + j] as number;
      }
    },
    linearRows(x, xStride, rows, wp, inDim, p0, p1, out, outStride) {
      const f = views.f32;
      // 2 rows × 8 outputs per pass over j: 16 sums held in locals.
      for (let p = p0; p < p1; p++) {
        const w0 = wp + p * inDim * 8;
        let r = 0;
        for (; r < rows; r += 2) {
          const two = r + 1 < rows;
          const xa = x + r * xStride;
          const xb = two ? xa + xStride : xa;
          let a0 = 0,
            a1 = 0,
            a2 = 0,
            a3 = 0,
            a4 = 0,
            a5 = 0,
            a6 = 0,
            a7 = 0;
          let b0 = 0,
            b1 = 0,
            b2 = 0,
            b3 = 0,
            b4 = 0,
            b5 = 0,
            b6 = 0,
            b7 = 0;
          for (let j = 0, w = w0; j < inDim; j++, w += 8) {
            const s = f[xa + j] as number;
            const t = f[xb + j] as number;
            const c0 = f[w] as number;
            const c1 = f[w + 1] as number;
            const c2 = f[w + 2] as number;
            const c3 = f[w + 3] as number;
            const c4 = f[w + 4] as number;
            const c5 = f[w + 5] as number;
            const c6 = f[w + 6] as number;
            const c7 = f[w + 7] as number;
            a0 += s * c0;
            a1 += s * c1;
            a2 += s * c2;
            a3 += s * c3;
            a4 += s * c4;
            a5 += s * c5;
            a6 += s * c6;
            a7 += s * c7;
            b0 += t * c0;
            b1 += t * c1;
            b2 += t * c2;
            b3 += t * c3;
            b4 += t * c4;
            b5 += t * c5;
            b6 += t * c6;
            b7 += t * c7;
          }
          const o = out + r * outStride + p * 8;
          f[o] = a0;
          f[o + 1] = a1;
          f[o + 2] = a2;
          f[o + 3] = a3;
          f[o + 4] = a4;
          f[o + 5] = a5;
          f[o + 6] = a6;
          f[o + 7] = a7;
          if (!two) continue;
          const ob = o + outStride;
          f[ob] = b0;
          f[ob + 1] = b1;
          f[ob + 2] = b2;
          f[ob + 3] = b3;
          f[ob + 4] = b4;
          f[ob + 5] = b5;
          f[ob + 6] = b6;
          f[ob + 7] = b7;
        }
      }
    },
  };
}
