// WebAssembly SIMD kernels of @sparseland/backend-cpu (AssemblyScript, built by `pnpm generate`).
//
// One source, two modules: `asc --enable simd` builds the SIMD128 kernels; `asc --enable simd,relaxed-simd` builds
// the relaxed variant, where madd() below is f32x4.relaxed_madd (an FMA on x64 with FMA3 and on arm64). The
// compile-time constant ASC_FEATURE_RELAXED_SIMD picks the branch, so the two modules cannot drift apart.
//
// Every pointer argument is an index into the shared linear memory: f32/i32 arguments count 4-byte elements,
// int8 arguments count bytes. The JS driver (src/driver) owns all planning; these functions only do arithmetic on
// tiles. They never allocate and keep nothing in linear memory outside the arguments (only per-instance globals: the
// head dim and a prefetch hint), so every worker can instantiate the module on one shared memory. The TypeScript
// twin of each function is in src/ts-kernels.ts: keep the two in step.
//
// Per-thread scratch (f32 elements, dp = head dim padded to a multiple of 4), the same formula as
// src/scratch-layout.ts:
//   QS  [64][dp]  scaled query rows          ACC [64][dp] output accumulators
//   S   [64][64]  scores, then probabilities M [64] running max, L [64] running sum, POS [64] row positions (i32)
//   KG  [dp][64]  gathered key columns        VG  [64][dp] gathered value rows, GPOS [64] their positions (i32)

const TILE: i32 = 64;
const NEG_INF: f32 = -Infinity;
// exp() clamps its argument here: 2^n is then 2^-127, whose exponent bits are all 0, so the result is exactly 0.
const EXP_FLOOR: f32 = -88.0;
// 1.5·2^23 + 127: adding it rounds x·log2(e) to an integer n in the low mantissa bits, already biased by 127, so
// the bits shifted left by 23 are the float 2^n.
const EXP_BIAS: f32 = 12583039.0;
// Row stride in bytes of query rows when the padded head dim is 64.
const QSTRIDE_BYTES: usize = 256;

let dp: i32 = 0;

// Prefetch hint for the next tile (byte ranges; empty = none): set by prefetch(), used by the next tileUpdate.
let pfK: usize = 0;
let pfKEnd: usize = 0;
let pfV: usize = 0;
let pfVEnd: usize = 0;
// Where the touched values go, so no compiler drops the loads.
let pfSink: i32 = 0;

// The causal edge of the current tile (set by tileScores): when edgeOn, a group of four rows keeps no key past
// its last row's position, so the scores, softmax and P·V of that group stop there (see groupKeys).
let edgeOn: bool = false;
let edgePos0: i32 = 0;
let edgePos: i32 = 0;

export function configure(paddedDim: i32): void {
  dp = paddedDim;
}

/**
 * A hint that the next tile reads `kFloats` elements at `k` and `vFloats` at `v`. The next tileUpdate touches one
 * 4-byte word per 64-byte line of both ranges between its P·V blocks, so the lines arrive from L3 or memory while it
 * computes (WebAssembly has no prefetch instruction). The ranges must be readable; results never depend on this.
 */
export function prefetch(k: i32, kFloats: i32, v: i32, vFloats: i32): void {
  pfK = bp(k);
  pfKEnd = bp(k + kFloats);
  pfV = bp(v);
  pfVEnd = bp(v + vFloats);
}

// Listed rows the next columnMaxTile gathers (set by prefetchRows): K rows at pfRowsK + keyIdx[j]·dp, j < pfRowsN.
let pfRowsK: i32 = 0;
let pfRowsIdx: i32 = 0;
let pfRowsN: i32 = 0;

/**
 * A hint that the next tile reads the `n` rows of `k` listed at keyIdx (row stride dp). The next columnMaxTile
 * touches one word per 64-byte line of four of those rows after each block of four keys, so the scattered rows
 * arrive from L3 or memory while it computes. The rows must be readable; results never depend on this.
 */
export function prefetchRows(k: i32, keyIdx: i32, n: i32): void {
  pfRowsK = k;
  pfRowsIdx = keyIdx;
  pfRowsN = n;
}

/** Touches the lines of listed rows [j, min(j + 4, pfRowsN)) of the prefetchRows hint; returns a value to sink. */
@inline function touchRows(j: i32): i32 {
  let sink = 0;
  const end = min(j + 4, pfRowsN);
  const bytes: usize = bp(dp);
  for (let t = j; t < end; t++) {
    const row: usize = bp(pfRowsK + load<i32>(bp(pfRowsIdx + t)) * dp);
    for (let o: usize = 0; o < bytes; o += 64) sink += load<i32>(row + o);
  }
  return sink;
}

@inline function offQS(scr: i32): i32 {
  return scr;
}
@inline function offACC(scr: i32): i32 {
  return scr + TILE * dp;
}
@inline function offS(scr: i32): i32 {
  return scr + 2 * TILE * dp;
}
@inline function offM(scr: i32): i32 {
  return scr + 2 * TILE * dp + TILE * TILE;
}
@inline function offL(scr: i32): i32 {
  return offM(scr) + TILE;
}
@inline function offPOS(scr: i32): i32 {
  return offM(scr) + 2 * TILE;
}
@inline function offKG(scr: i32): i32 {
  return offM(scr) + 3 * TILE;
}
@inline function offVG(scr: i32): i32 {
  return offKG(scr) + TILE * dp;
}
@inline function offGPOS(scr: i32): i32 {
  return offVG(scr) + TILE * dp;
}

/** Scratch floats one thread needs for head dim `paddedDim` (checked against the TS layout by a test). */
export function scratchFloats(paddedDim: i32): i32 {
  return 4 * TILE * paddedDim + TILE * TILE + 4 * TILE;
}

/** a·b + c: one relaxed_madd (fused or not, as the engine chooses) in the relaxed build, mul then add otherwise. */
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline function bp(index: i32): usize {
  return (<usize>index) << 2;
}

// exp(x) for f32x4 lanes with x <= 0 (every caller subtracts a maximum): x = n·ln2 + r, |r| <= ln2/2, e^r by a
// degree-7 polynomial (Cephes expf's coefficients, Horner form), 2^n from exponent bits. Lanes at or below about
// -87.7 (and -Infinity) give exactly 0; the band just above gives subnormals, as the true exp does. Only
// single-instruction ops on x64: pmax (maxps) instead of f32x4.max (NaN-propagating, several instructions in V8),
// and the EXP_BIAS trick instead of nearest and trunc_sat for n. 13 vector constants: few enough for V8's 15
// allocatable registers in the softmax loop.
@inline function vexp(x: v128): v128 {
  const xc = f32x4.pmax(x, f32x4.splat(EXP_FLOOR));
  const bias = f32x4.splat(EXP_BIAS);
  const t = madd(xc, f32x4.splat(1.44269504088896341), bias);
  const n = f32x4.sub(t, bias);
  let r = madd(n, f32x4.splat(-0.693359375), xc);
  r = madd(n, f32x4.splat(2.12194440e-4), r);
  let p = madd(f32x4.splat(1.9875691500e-4), r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = madd(p, r, f32x4.splat(1.0));
  p = madd(p, r, f32x4.splat(1.0));
  return f32x4.mul(p, i32x4.shl(t, 23));
}

@inline function scalarExp(x: f32): f32 {
  return f32x4.extract_lane(vexp(f32x4.splat(x)), 0);
}

@inline function hmax(v: v128): f32 {
  v = f32x4.pmax(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  v = f32x4.pmax(v, v128.shuffle<f32>(v, v, 1, 0, 3, 2));
  return f32x4.extract_lane(v, 0);
}

@inline function hsum(v: v128): f32 {
  v = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  v = f32x4.add(v, v128.shuffle<f32>(v, v, 1, 0, 3, 2));
  return f32x4.extract_lane(v, 0);
}

/**
 * Keys of the current tile that rows r..r+3 may keep, rounded up to 8 (at least 8, at most n8): all n8 unless the
 * tile is causal with key positions pos0 + j, where the group needs no key past its largest position. On the
 * diagonal this skips the upper-right triangle of 8-key blocks (about half of the tile); the skipped scores are
 * already -Infinity from the mask, so results do not change.
 */
@inline function groupKeys(r: i32, n8: i32): i32 {
  if (!edgeOn) return n8;
  const at: usize = bp(edgePos + r);
  const top = max(max(load<i32>(at), load<i32>(at, 4)), max(load<i32>(at, 8), load<i32>(at, 12)));
  const rel = top - edgePos0;
  if (rel >= n8) return n8;
  return max(8, (rel + 8) & ~7);
}

/**
 * out[r][j] = q[r] · k[j] for r < rows (rounded up to 4: q must have readable rows up to that), j < n (rounded up
 * to 8), with out row stride 64. `kt` is a key tile stored transposed with row stride 64: kt[c·64 + j].
 */
function qkTile64(q: i32, rows: i32, kt: i32, n: i32, out: i32): void {
  const d = dp;
  const qStride: usize = bp(d); // == QSTRIDE_BYTES
  for (let r = 0; r < rows; r += 4) {
    const q0: usize = bp(q + r * d);
    const o: usize = bp(out + r * TILE);
    const nj = min(n, groupKeys(r, (n + 7) & ~7));
    for (let j = 0; j < nj; j += 8) {
      let a00 = f32x4.splat(0);
      let a01 = a00;
      let a10 = a00;
      let a11 = a00;
      let a20 = a00;
      let a21 = a00;
      let a30 = a00;
      let a31 = a00;
      let kp: usize = bp(kt + j);
      let qp: usize = q0;
      const qEnd: usize = q0 + qStride;
      for (; qp < qEnd; qp += 4) {
        const k0 = v128.load(kp);
        const k1 = v128.load(kp, 16);
        const b0 = v128.load32_splat(qp);
        const b1 = v128.load32_splat(qp, QSTRIDE_BYTES);
        const b2 = v128.load32_splat(qp, 2 * QSTRIDE_BYTES);
        const b3 = v128.load32_splat(qp, 3 * QSTRIDE_BYTES);
        a00 = madd(b0, k0, a00);
        a01 = madd(b0, k1, a01);
        a10 = madd(b1, k0, a10);
        a11 = madd(b1, k1, a11);
        a20 = madd(b2, k0, a20);
        a21 = madd(b2, k1, a21);
        a30 = madd(b3, k0, a30);
        a31 = madd(b3, k1, a31);
        kp += 256;
      }
      const s: usize = o + bp(j);
      v128.store(s, a00);
      v128.store(s, a01, 16);
      v128.store(s, a10, 256);
      v128.store(s, a11, 272);
      v128.store(s, a20, 512);
      v128.store(s, a21, 528);
      v128.store(s, a30, 768);
      v128.store(s, a31, 784);
    }
  }
}

function qkTileAny(q: i32, rows: i32, kt: i32, n: i32, out: i32): void {
  const d = dp;
  const qStride: usize = bp(d);
  for (let r = 0; r < rows; r += 4) {
    const q0: usize = bp(q + r * d);
    const o: usize = bp(out + r * TILE);
    const nj = min(n, groupKeys(r, (n + 7) & ~7));
    for (let j = 0; j < nj; j += 8) {
      let a00 = f32x4.splat(0);
      let a01 = a00;
      let a10 = a00;
      let a11 = a00;
      let a20 = a00;
      let a21 = a00;
      let a30 = a00;
      let a31 = a00;
      let kp: usize = bp(kt + j);
      let qp: usize = q0;
      for (let c = 0; c < d; c++) {
        const k0 = v128.load(kp);
        const k1 = v128.load(kp, 16);
        const b0 = v128.load32_splat(qp);
        const b1 = v128.load32_splat(qp + qStride);
        const b2 = v128.load32_splat(qp + 2 * qStride);
        const b3 = v128.load32_splat(qp + 3 * qStride);
        a00 = madd(b0, k0, a00);
        a01 = madd(b0, k1, a01);
        a10 = madd(b1, k0, a10);
        a11 = madd(b1, k1, a11);
        a20 = madd(b2, k0, a20);
        a21 = madd(b2, k1, a21);
        a30 = madd(b3, k0, a30);
        a31 = madd(b3, k1, a31);
        kp += 256;
        qp += 4;
      }
      const s: usize = o + bp(j);
      v128.store(s, a00);
      v128.store(s, a01, 16);
      v128.store(s, a10, 256);
      v128.store(s, a11, 272);
      v128.store(s, a20, 512);
      v128.store(s, a21, 528);
      v128.store(s, a30, 768);
      v128.store(s, a31, 784);
    }
  }
}

/** qkTile for any padded dim; head dim 64 (the common case) gets a version whose loads all use constant offsets. */
@inline function qkTile(q: i32, rows: i32, kt: i32, n: i32, out: i32): void {
  if (dp == 64) qkTile64(q, rows, kt, n, out);
  else qkTileAny(q, rows, kt, n, out);
}

/**
 * Prepares a task: copies `rows` query rows (given by the row table: per row [qOff, outOff, statOff, pos]) into
 * QS multiplied by `scale`, zeroes the padding rows, resets the running max / sum and the accumulators.
 */
export function begin(scr: i32, rowTable: i32, rows: i32, scale: f32): void {
  const d = dp;
  const qs = offQS(scr);
  const acc = offACC(scr);
  const m = offM(scr);
  const l = offL(scr);
  const pos = offPOS(scr);
  const vs = f32x4.splat(scale);
  const zero = f32x4.splat(0);
  const padded = (rows + 3) & ~3;
  for (let r = 0; r < padded; r++) {
    const dst: usize = bp(qs + r * d);
    if (r < rows) {
      const src: usize = bp(load<i32>(bp(rowTable + r * 4)));
      for (let c = 0; c < d; c += 4) v128.store(dst + bp(c), f32x4.mul(v128.load(src + bp(c)), vs));
      store<i32>(bp(pos + r), load<i32>(bp(rowTable + r * 4 + 3)));
    } else {
      for (let c = 0; c < d; c += 4) v128.store(dst + bp(c), zero);
      store<i32>(bp(pos + r), 0x7fffffff);
    }
    const a: usize = bp(acc + r * d);
    for (let c = 0; c < d; c += 4) v128.store(a + bp(c), zero);
    store<f32>(bp(m + r), NEG_INF);
    store<f32>(bp(l + r), 0);
  }
}

/**
 * Scores of one key tile into S (already scaled, since QS is), then the mask: keys after the row's position
 * (mode & 1, causal), keys whose bit is clear in the tile's bitmap (mode & 2; 2 words per row), and the tile's
 * padding columns become -Infinity. Key positions are pos0 + j, or posList[j] when mode & 4.
 */
export function tileScores(scr: i32, rows: i32, kt: i32, n: i32, mode: i32, pos0: i32, posList: i32, bitmap: i32): void {
  const s0 = offS(scr);
  const pos = offPOS(scr);
  edgeOn = (mode & 5) == 1;
  edgePos0 = pos0;
  edgePos = pos;
  qkTile(offQS(scr), rows, kt, n, s0);
  const n8 = (n + 7) & ~7;
  for (let r = 0; r < rows; r++) {
    const s: usize = bp(s0 + r * TILE);
    for (let j = n; j < n8; j++) store<f32>(s + bp(j), NEG_INF);
    if (mode & 1) {
      const rowPos = load<i32>(bp(pos + r));
      // Positions grow with j, so the keys after the row form a suffix of the tile.
      let first = n;
      if (mode & 4) {
        while (first > 0 && load<i32>(bp(posList + first - 1)) > rowPos) first--;
      } else {
        first = min(n, max(0, rowPos - pos0 + 1));
      }
      for (let j = first; j < n; j++) store<f32>(s + bp(j), NEG_INF);
    }
    if (mode & 2) {
      // 4 keys at a time: lane k keeps its score iff bit j + k is set (bits past n are clear).
      const w: usize = bp(bitmap + r * 2);
      const lo = load<u32>(w);
      const hi = load<u32>(w, 4);
      const laneBits = i32x4(1, 2, 4, 8);
      const zero = i32x4.splat(0);
      const negInf = f32x4.splat(NEG_INF);
      for (let j = 0; j < n8; j += 4) {
        const word = j < 32 ? lo : hi;
        const dropped = i32x4.eq(v128.and(i32x4.splat(<i32>(word >>> (<u32>(j & 31)))), laneBits), zero);
        v128.store(s + bp(j), v128.bitselect(negInf, v128.load(s + bp(j)), dropped));
      }
    }
  }
}

/**
 * Online-softmax update with the probabilities of the scores in S (n keys, padding columns at -Infinity), then
 * ACC += P · V for the tile's value rows v[j·dp + c].
 */
export function tileUpdate(scr: i32, rows: i32, v: i32, n: i32): void {
  softmaxTile(scr, rows, n);
  pvTile(scr, rows, v, n);
}

// (max a, max b, max c, max d): each vector reduced over its lanes, the four results in one vector.
@inline function max4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.pmax(v128.shuffle<f32>(a, b, 0, 1, 4, 5), v128.shuffle<f32>(a, b, 2, 3, 6, 7));
  const cd = f32x4.pmax(v128.shuffle<f32>(c, d, 0, 1, 4, 5), v128.shuffle<f32>(c, d, 2, 3, 6, 7));
  return f32x4.pmax(v128.shuffle<f32>(ab, cd, 0, 2, 4, 6), v128.shuffle<f32>(ab, cd, 1, 3, 5, 7));
}

// (Σa, Σb, Σc, Σd) over lanes, as max4.
@inline function sum4f(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 1, 4, 5), v128.shuffle<f32>(a, b, 2, 3, 6, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 1, 4, 5), v128.shuffle<f32>(c, d, 2, 3, 6, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 2, 4, 6), v128.shuffle<f32>(ab, cd, 1, 3, 5, 7));
}

// 2^y for f32x4 lanes with y <= 0 (about): y = n + f, |f| <= 1/2, 2^f by a degree-5 minimax polynomial (relative
// error 7.5e-8), 2^n from exponent bits. y at or below -127 (and -Infinity after the clamp) gives exactly 0.
@inline function vexp2(y: v128): v128 {
  const yc = f32x4.pmax(y, f32x4.splat(-127.0));
  const bias = f32x4.splat(EXP_BIAS);
  const t = f32x4.add(yc, bias);
  const f = f32x4.sub(yc, f32x4.sub(t, bias));
  let p = madd(f32x4.splat(1.3276472167821562e-3), f, f32x4.splat(9.675541331021383e-3));
  p = madd(p, f, f32x4.splat(5.550713272875384e-2));
  p = madd(p, f, f32x4.splat(2.402211972396918e-1));
  p = madd(p, f, f32x4.splat(6.931469670652649e-1));
  p = madd(p, f, f32x4.splat(1.0000000716546416));
  return f32x4.mul(p, i32x4.shl(t, 23));
}

const LOG2E: f32 = 1.44269504088896341;

// One row of probabilities in place, p = exp(s − ref) = 2^((s − ref)·log2 e), for n8 scores at s; their sum. The
// difference is taken first (exact when s is near ref), so large logits lose no accuracy to a rounded ref·log2 e.
// (probeTile has the same loop writing elsewhere: one loop for both cost the in-place case an add per step.)
@inline function expRowSum(s: usize, n8: i32, ref: f32): v128 {
  const end: usize = s + bp(n8);
  const l2e = f32x4.splat(LOG2E);
  const vr = f32x4.splat(ref);
  let sum = f32x4.splat(0);
  for (let p = s; p < end; p += 16) {
    const e = vexp2(f32x4.mul(f32x4.sub(v128.load(p), vr), l2e));
    v128.store(p, e);
    sum = f32x4.add(sum, e);
  }
  return sum;
}

@inline function scaleRow(a: usize, d: i32, alpha: v128): void {
  const end: usize = a + bp(d);
  for (let p = a; p < end; p += 16) v128.store(p, f32x4.mul(v128.load(p), alpha));
}

/**
 * Online softmax of the scores in S, four rows at a time with the rows in the lanes of M, L and alpha: row maxima
 * (two chains per row), the new running max, alpha = exp(old max − new max) (one vexp for four rows), the
 * probabilities in place, their sums, L = L·alpha + sum, and ACC rows scaled by alpha unless all four alphas are 1.
 * A row whose running max is still -Infinity uses 0 as its reference, so its probabilities and alpha are 0.
 */
@inline function softmaxTile(scr: i32, rows: i32, n: i32): void {
  const d = dp;
  const s0 = offS(scr);
  const acc = offACC(scr);
  const m = offM(scr);
  const l = offL(scr);
  const n8 = (n + 7) & ~7;
  const rows4 = (rows + 3) & ~3;
  const negInf = f32x4.splat(NEG_INF);
  // Padding rows of the last group keep nothing: probabilities 0, and their M, L and ACC stay as begin() set them.
  for (let r = rows; r < rows4; r++) {
    const s: usize = bp(s0 + r * TILE);
    for (let j = 0; j < n8; j += 4) v128.store(s + bp(j), negInf);
  }
  for (let r = 0; r < rows4; r += 4) {
    // Scores past the group's causal edge are -Infinity and stay unread (P·V stops at the same key).
    const ng = groupKeys(r, n8);
    const nBytes: usize = bp(ng);
    const s: usize = bp(s0 + r * TILE);
    let a0 = v128.load(s);
    let b0 = v128.load(s, 16);
    let a1 = v128.load(s, 256);
    let b1 = v128.load(s, 272);
    let a2 = v128.load(s, 512);
    let b2 = v128.load(s, 528);
    let a3 = v128.load(s, 768);
    let b3 = v128.load(s, 784);
    for (let j: usize = 32; j < nBytes; j += 32) {
      const p = s + j;
      a0 = f32x4.pmax(a0, v128.load(p));
      b0 = f32x4.pmax(b0, v128.load(p, 16));
      a1 = f32x4.pmax(a1, v128.load(p, 256));
      b1 = f32x4.pmax(b1, v128.load(p, 272));
      a2 = f32x4.pmax(a2, v128.load(p, 512));
      b2 = f32x4.pmax(b2, v128.load(p, 528));
      a3 = f32x4.pmax(a3, v128.load(p, 768));
      b3 = f32x4.pmax(b3, v128.load(p, 784));
    }
    const mOld = v128.load(bp(m + r));
    const mNew = f32x4.pmax(max4(f32x4.pmax(a0, b0), f32x4.pmax(a1, b1), f32x4.pmax(a2, b2), f32x4.pmax(a3, b3)), mOld);
    const ref = v128.andnot(mNew, f32x4.eq(mNew, negInf));
    const alpha = vexp2(f32x4.mul(f32x4.sub(mOld, ref), f32x4.splat(LOG2E)));
    v128.store(bp(m + r), mNew);
    const sums = sum4f(
      expRowSum(s, ng, f32x4.extract_lane(ref, 0)),
      expRowSum(s + 256, ng, f32x4.extract_lane(ref, 1)),
      expRowSum(s + 512, ng, f32x4.extract_lane(ref, 2)),
      expRowSum(s + 768, ng, f32x4.extract_lane(ref, 3)),
    );
    v128.store(bp(l + r), madd(v128.load(bp(l + r)), alpha, sums));
    if (!i32x4.all_true(f32x4.eq(alpha, f32x4.splat(1)))) {
      const a: usize = bp(acc + r * d);
      const stride: usize = bp(d);
      scaleRow(a, d, f32x4.splat(f32x4.extract_lane(alpha, 0)));
      scaleRow(a + stride, d, f32x4.splat(f32x4.extract_lane(alpha, 1)));
      scaleRow(a + 2 * stride, d, f32x4.splat(f32x4.extract_lane(alpha, 2)));
      scaleRow(a + 3 * stride, d, f32x4.splat(f32x4.extract_lane(alpha, 3)));
    }
  }
}

/**
 * ACC += P · V for the tile's value rows v[j·dp + c] (P in S, padding rows and columns 0).
 */
@inline function pvTile(scr: i32, rows: i32, v: i32, n: i32): void {
  const d = dp;
  const s0 = offS(scr);
  const acc = offACC(scr);
  // ACC[r][c..c+8) += sum_j P[r][j] · V[j][c..c+8): 4 rows × 8 columns in registers. Between blocks, touch two
  // lines of each prefetch range (a full 64-row tile covers both ranges of a full next tile).
  const vStride: usize = bp(d);
  const d8 = d & ~7;
  let pk = pfK;
  const pkEnd = pfKEnd;
  let pv = pfV;
  const pvEnd = pfVEnd;
  pfKEnd = 0;
  pfVEnd = 0;
  let sink = 0;
  const n8 = (n + 7) & ~7;
  for (let r = 0; r < rows; r += 4) {
    const p0: usize = bp(s0 + r * TILE);
    const nr = min(n, groupKeys(r, n8));
    for (let c = 0; c < d8; c += 8) {
      if (pk < pkEnd) {
        sink += load<i32>(pk);
        if (pk + 64 < pkEnd) sink += load<i32>(pk, 64);
        pk += 128;
      }
      if (pv < pvEnd) {
        sink += load<i32>(pv);
        if (pv + 64 < pvEnd) sink += load<i32>(pv, 64);
        pv += 128;
      }
      const a: usize = bp(acc + r * d + c);
      let a00 = v128.load(a);
      let a01 = v128.load(a, 16);
      let a10 = v128.load(a + vStride);
      let a11 = v128.load(a + vStride, 16);
      let a20 = v128.load(a + 2 * vStride);
      let a21 = v128.load(a + 2 * vStride, 16);
      let a30 = v128.load(a + 3 * vStride);
      let a31 = v128.load(a + 3 * vStride, 16);
      let vp: usize = bp(v + c);
      let pp: usize = p0;
      const pEnd: usize = p0 + bp(nr);
      for (; pp < pEnd; pp += 4) {
        const v0 = v128.load(vp);
        const v1 = v128.load(vp, 16);
        const b0 = v128.load32_splat(pp);
        const b1 = v128.load32_splat(pp, 256);
        const b2 = v128.load32_splat(pp, 512);
        const b3 = v128.load32_splat(pp, 768);
        a00 = madd(b0, v0, a00);
        a01 = madd(b0, v1, a01);
        a10 = madd(b1, v0, a10);
        a11 = madd(b1, v1, a11);
        a20 = madd(b2, v0, a20);
        a21 = madd(b2, v1, a21);
        a30 = madd(b3, v0, a30);
        a31 = madd(b3, v1, a31);
        vp += vStride;
      }
      v128.store(a, a00);
      v128.store(a, a01, 16);
      v128.store(a + vStride, a10);
      v128.store(a + vStride, a11, 16);
      v128.store(a + 2 * vStride, a20);
      v128.store(a + 2 * vStride, a21, 16);
      v128.store(a + 3 * vStride, a30);
      v128.store(a + 3 * vStride, a31, 16);
    }
    if (d8 < d) {
      // dp is a multiple of 4: one 4-wide column group remains.
      const a: usize = bp(acc + r * d + d8);
      let a0 = v128.load(a);
      let a1 = v128.load(a + vStride);
      let a2 = v128.load(a + 2 * vStride);
      let a3 = v128.load(a + 3 * vStride);
      let vp: usize = bp(v + d8);
      let pp: usize = p0;
      for (let j = 0; j < nr; j++) {
        const v0 = v128.load(vp);
        a0 = madd(v128.load32_splat(pp), v0, a0);
        a1 = madd(v128.load32_splat(pp, 256), v0, a1);
        a2 = madd(v128.load32_splat(pp, 512), v0, a2);
        a3 = madd(v128.load32_splat(pp, 768), v0, a3);
        vp += vStride;
        pp += 4;
      }
      v128.store(a, a0);
      v128.store(a + vStride, a1);
      v128.store(a + 2 * vStride, a2);
      v128.store(a + 3 * vStride, a3);
    }
  }
  pfSink += sink;
}

/** One key tile: scores, mask, online softmax and P·V (tileScores then tileUpdate). */
export function tile(scr: i32, rows: i32, kt: i32, v: i32, n: i32, mode: i32, pos0: i32, posList: i32, bitmap: i32): void {
  tileScores(scr, rows, kt, n, mode, pos0, posList, bitmap);
  tileUpdate(scr, rows, v, n);
}

/**
 * Writes each row's output (ACC / L, zeros for a row that kept nothing) to its outOff, and its running max and
 * sum to statOff (the caller turns them into the log-sum-exp).
 */
export function finish(scr: i32, rowTable: i32, rows: i32): void {
  const d = dp;
  const acc = offACC(scr);
  const m = offM(scr);
  const l = offL(scr);
  for (let r = 0; r < rows; r++) {
    const out: usize = bp(load<i32>(bp(rowTable + r * 4 + 1)));
    const stat: usize = bp(load<i32>(bp(rowTable + r * 4 + 2)));
    const sum = load<f32>(bp(l + r));
    const inv = f32x4.splat(sum > 0 ? 1 / sum : 0);
    const a: usize = bp(acc + r * d);
    for (let c = 0; c < d; c += 4) v128.store(out + bp(c), f32x4.mul(v128.load(a + bp(c)), inv));
    store<f32>(stat, load<f32>(bp(m + r)));
    store<f32>(stat, sum, 4);
  }
}

/**
 * Gathers up to 64 key columns `cols[0..count)` of one kv head into KG (transposed, stride 64) and VG (rows of dp),
 * and their positions into GPOS. Keys are read from the packed layout kp[(k >> 6)·64·dp + c·64 + (k & 63)].
 */
export function gather(scr: i32, kp: i32, v: i32, cols: i32, count: i32): void {
  const d = dp;
  const kg = offKG(scr);
  const vg = offVG(scr);
  const gpos = offGPOS(scr);
  for (let j = 0; j < count; j++) {
    const k = load<i32>(bp(cols + j));
    store<i32>(bp(gpos + j), k);
    const src = kp + (k >> 6) * TILE * d + (k & 63);
    for (let c = 0; c < d; c++) store<f32>(bp(kg + c * TILE + j), load<f32>(bp(src + c * TILE)));
    const vs: usize = bp(v + k * d);
    const vd: usize = bp(vg + j * d);
    for (let c = 0; c < d; c += 4) v128.store(vd + bp(c), v128.load(vs + bp(c)));
  }
}

/**
 * Dequantises tokens [t0, t0 + count) (count <= 64) of a packed low-bit KV block (KIVI's layout) into KG (keys,
 * transposed with stride 64) and VG (value rows of dp): x = code · scale + min, keys with one (scale, min) per
 * channel and key group, values per token and channel group; padding channels are zero. The descriptor at `desc`
 * (i32 elements): bits, dim, keyGroup, valueGroup, valueGroups, rowBytes, key codes (byte address), keyScale,
 * keyMin, value codes (byte address), valueScale, valueMin (f32 indices). Codes are token-major, channel c at bit
 * c·bits of the token's row, lowest bits first.
 */
export function unpackTile(scr: i32, desc: i32, t0: i32, count: i32): void {
  const d = dp;
  const kg = offKG(scr);
  const vg = offVG(scr);
  const bits = load<i32>(bp(desc));
  const dim = load<i32>(bp(desc + 1));
  const keyGroup = load<i32>(bp(desc + 2));
  const valueGroup = load<i32>(bp(desc + 3));
  const valueGroups = load<i32>(bp(desc + 4));
  const rowBytes = load<i32>(bp(desc + 5));
  const keyCodes = load<i32>(bp(desc + 6));
  const keyScale = load<i32>(bp(desc + 7));
  const keyMin = load<i32>(bp(desc + 8));
  const valueCodes = load<i32>(bp(desc + 9));
  const valueScale = load<i32>(bp(desc + 10));
  const valueMin = load<i32>(bp(desc + 11));
  const mask = (1 << bits) - 1;
  for (let j = 0; j < count; j++) {
    const t = t0 + j;
    const group = (t / keyGroup) * dim;
    const ks = keyScale + group;
    const km = keyMin + group;
    const kRow = <usize>(keyCodes + t * rowBytes);
    const vRow = <usize>(valueCodes + t * rowBytes);
    const vs = valueScale + t * valueGroups;
    const vm = valueMin + t * valueGroups;
    const vDst = vg + j * d;
    // Values: one (scale, min) per run of valueGroup channels.
    let c = 0;
    for (let gi = 0; gi < valueGroups; gi++) {
      const scale = load<f32>(bp(vs + gi));
      const lo = load<f32>(bp(vm + gi));
      const end = min(dim, c + valueGroup);
      for (; c < end; c++) {
        const bit = c * bits;
        const code = (<i32>load<u8>(vRow + <usize>(bit >> 3)) >> (bit & 7)) & mask;
        store<f32>(bp(vDst + c), <f32>code * scale + lo);
      }
    }
    for (c = 0; c < dim; c++) {
      const bit = c * bits;
      const code = (<i32>load<u8>(kRow + <usize>(bit >> 3)) >> (bit & 7)) & mask;
      store<f32>(bp(kg + c * TILE + j), <f32>code * load<f32>(bp(ks + c)) + load<f32>(bp(km + c)));
    }
    for (c = dim; c < d; c++) {
      store<f32>(bp(kg + c * TILE + j), 0);
      store<f32>(bp(vDst + c), 0);
    }
  }
}

/**
 * Plain scores: out[r·outStride + j] = scale · q[r] · k[j] for r < rows (<= 64), j < n (<= 64), q rows of dp at
 * `q` (readable up to rows rounded to 4), k a transposed tile with stride 64. Used by pooledScores and
 * lastQueriesAttention.
 */
export function scoreBlock(scr: i32, q: i32, rows: i32, kt: i32, n: i32, out: i32, outStride: i32, scale: f32): void {
  const s0 = offS(scr);
  edgeOn = false;
  qkTile(q, rows, kt, n, s0);
  // Four scores per step (the same products as one by one); `out` rows need not be 16-byte aligned.
  const vs = f32x4.splat(scale);
  const n4 = n & ~3;
  for (let r = 0; r < rows; r++) {
    const s: usize = bp(s0 + r * TILE);
    const o: usize = bp(out + r * outStride);
    for (let j = 0; j < n4; j += 4) v128.store(o + bp(j), f32x4.mul(v128.load(s + bp(j)), vs));
    for (let j = n4; j < n; j++) store<f32>(o + bp(j), load<f32>(s + bp(j)) * scale);
  }
}

/**
 * One 64-key tile of the last-queries probe when only its sums are wanted (lastQueriesSums): the scores of `rows`
 * query rows against the tile, x = scale · q · k as scoreBlock's, then per row r over its keys j < nr = min(n,
 * last[r] − k0 + 1): the tile's maximum m, e[j] = exp(x[j] − m) written to out[r·outStride + j], and their sum l,
 * stored as stats[r·statStride] = m, stats[r·statStride + 1] = l (−Infinity and 0 for a row with no key here, whose
 * out is not written). probeTileSums turns the e into the row's probabilities, e · exp(m − M) / L: the exponentials
 * are taken while the scores are in the tile, so the whole row is never read back for its maximum or its scaling.
 */
export function probeTile(
  scr: i32,
  q: i32,
  rows: i32,
  kt: i32,
  n: i32,
  last: i32,
  k0: i32,
  out: i32,
  outStride: i32,
  scale: f32,
  stats: i32,
  statStride: i32,
): void {
  const s0 = offS(scr);
  edgeOn = false;
  qkTile(q, rows, kt, n, s0);
  const vs = f32x4.splat(scale);
  const l2e = f32x4.splat(LOG2E);
  const negInf = f32x4.splat(NEG_INF);
  const lanes = i32x4(0, 1, 2, 3);
  for (let r = 0; r < rows; r++) {
    const st: usize = bp(stats + r * statStride);
    const nr = min(n, load<i32>(bp(last + r)) - k0 + 1);
    if (nr <= 0) {
      store<f32>(st, NEG_INF);
      store<f32>(st, 0, 4);
      continue;
    }
    const s: usize = bp(s0 + r * TILE);
    const o: usize = bp(out + r * outStride);
    // Scaled in place; the lanes of the last group of four past nr become −Infinity (S has room for 64 keys).
    const n4 = (nr + 3) & ~3;
    let mx = negInf;
    for (let j = 0; j < n4; j += 4) {
      let x = f32x4.mul(v128.load(s + bp(j)), vs);
      x = v128.bitselect(x, negInf, i32x4.lt_s(i32x4.add(lanes, i32x4.splat(j)), i32x4.splat(nr)));
      v128.store(s + bp(j), x);
      mx = f32x4.pmax(mx, x);
    }
    const m = hmax(mx);
    const vm = f32x4.splat(m);
    let sum = f32x4.splat(0);
    const full = nr & ~3;
    for (let j = 0; j < full; j += 4) {
      const e = vexp2(f32x4.mul(f32x4.sub(v128.load(s + bp(j)), vm), l2e));
      v128.store(o + bp(j), e);
      sum = f32x4.add(sum, e);
    }
    if (full < nr) {
      // 1–3 keys left: their lanes, the rest exactly 0 (exp of −Infinity).
      const e = vexp2(f32x4.mul(f32x4.sub(v128.load(s + bp(full)), vm), l2e));
      sum = f32x4.add(sum, e);
      const at = o + bp(full);
      store<f32>(at, f32x4.extract_lane(e, 0));
      if (full + 1 < nr) store<f32>(at, f32x4.extract_lane(e, 1), 4);
      if (full + 2 < nr) store<f32>(at, f32x4.extract_lane(e, 2), 8);
    }
    store<f32>(st, m);
    store<f32>(st, hsum(sum), 4);
  }
}

/**
 * Adds one probe row that probeTile left to its head's probe sums, in float64 as core's sumProbeRows does: n = the
 * row's last key + 1, its tiles' (m, l) at stats + 2t. With M the largest m and L = Σ l · exp(m − M), each tile's e
 * are scaled by exp(m − M) / L, so p[j] is the row's softmax; vertical[j] += p[j], slash[s − j] += p[j] (vertical
 * and s are f64 element indices). Each tile's m is replaced by its weight exp(m − M) (taken once per tile).
 */
export function probeTileSums(row: i32, n: i32, stats: i32, vertical: i32, s: i32): void {
  const tiles = (n + TILE - 1) / TILE;
  let mMax: f32 = NEG_INF;
  for (let t = 0; t < tiles; t++) mMax = max(mMax, load<f32>(bp(stats + 2 * t)));
  let total: f32 = 0;
  for (let t = 0; t < tiles; t++) {
    const at: usize = bp(stats + 2 * t);
    const weight = scalarExp(load<f32>(at) - mMax);
    store<f32>(at, weight);
    total += load<f32>(at, 4) * weight;
  }
  const inv: f32 = 1 / total;
  for (let t = 0; t < tiles; t++) {
    const c = f32x4.splat(load<f32>(bp(stats + 2 * t)) * inv);
    const j0 = t * TILE;
    const end = min(n, j0 + TILE);
    const end4 = j0 + ((end - j0) & ~3);
    let j = j0;
    for (; j < end4; j += 4) {
      const p = f32x4.mul(v128.load(bp(row + j)), c);
      const lo = f64x2.promote_low_f32x4(p);
      const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(p, p, 2, 3, 0, 1));
      const va: usize = (<usize>(vertical + j)) << 3;
      v128.store(va, f64x2.add(v128.load(va), lo));
      v128.store(va, f64x2.add(v128.load(va, 16), hi), 16);
      // slash[s − j − 3 .. s − j] += p[j + 3], p[j + 2], p[j + 1], p[j].
      const sa: usize = (<usize>(s - j - 3)) << 3;
      v128.store(sa, f64x2.add(v128.load(sa), v128.shuffle<f64>(hi, hi, 1, 0)));
      v128.store(sa, f64x2.add(v128.load(sa, 16), v128.shuffle<f64>(lo, lo, 1, 0)), 16);
    }
    for (; j < end; j++) {
      const p = <f64>(load<f32>(bp(row + j)) * f32x4.extract_lane(c, 0));
      const va: usize = (<usize>(vertical + j)) << 3;
      store<f64>(va, load<f64>(va) + p);
      const sa: usize = (<usize>(s - j)) << 3;
      store<f64>(sa, load<f64>(sa) + p);
    }
  }
}

/** In-place softmax of row[0..count) (count >= 1). */
export function softmaxRow(row: i32, count: i32): void {
  const p: usize = bp(row);
  const n4 = count & ~3;
  let mx = f32x4.splat(NEG_INF);
  for (let j = 0; j < n4; j += 4) mx = f32x4.pmax(mx, v128.load(p + bp(j)));
  let m = hmax(mx);
  for (let j = n4; j < count; j++) m = max(m, load<f32>(p + bp(j)));
  const vm = f32x4.splat(m);
  let vsum = f32x4.splat(0);
  for (let j = 0; j < n4; j += 4) {
    const e = vexp(f32x4.sub(v128.load(p + bp(j)), vm));
    v128.store(p + bp(j), e);
    vsum = f32x4.add(vsum, e);
  }
  let sum = hsum(vsum);
  for (let j = n4; j < count; j++) {
    const e = scalarExp(load<f32>(p + bp(j)) - m);
    store<f32>(p + bp(j), e);
    sum += e;
  }
  const inv = f32x4.splat(1 / sum);
  for (let j = 0; j < n4; j += 4) v128.store(p + bp(j), f32x4.mul(v128.load(p + bp(j)), inv));
  for (let j = n4; j < count; j++) store<f32>(p + bp(j), load<f32>(p + bp(j)) * (1 / sum));
}

// Sums of 4 i32x4 accumulators, one per lane: (Σa, Σb, Σc, Σd).
@inline function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 2, 4, 6), v128.shuffle<i32>(a, b, 1, 3, 5, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 2, 4, 6), v128.shuffle<i32>(c, d, 1, 3, 5, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 2, 4, 6), v128.shuffle<i32>(ab, cd, 1, 3, 5, 7));
}

/**
 * Quantised scores: out[r·outStride + j] = f32(qi[r] · ki[j]) · rowScale[r] · keyScale[j] for r < rows, j < n.
 * qi and ki are int8 rows of `stride` bytes (a multiple of 8, zero padded): byte indices. rowScale already includes
 * the logit scale. Exact integer dot products (i32x4.dot_i16x8_s), 2 rows × 4 keys in registers.
 */
export function quantScores(qi: i32, rows: i32, ki: i32, n: i32, stride: i32, rowScale: i32, keyScale: i32, out: i32, outStride: i32): void {
  const s: usize = <usize>stride;
  for (let r = 0; r < rows; r += 2) {
    const q0: usize = <usize>(qi + r * stride);
    const q1: usize = r + 1 < rows ? q0 + s : q0;
    const sq0 = f32x4.splat(load<f32>(bp(rowScale + r)));
    const sq1 = f32x4.splat(load<f32>(bp(rowScale + (r + 1 < rows ? r + 1 : r))));
    for (let j = 0; j < n; j += 4) {
      let a0 = i32x4.splat(0);
      let a1 = a0;
      let a2 = a0;
      let a3 = a0;
      let b0 = a0;
      let b1 = a0;
      let b2 = a0;
      let b3 = a0;
      // Keys past n repeat the last key: same loads, results not stored.
      const k0: usize = <usize>(ki + j * stride);
      const k1: usize = j + 1 < n ? k0 + s : k0;
      const k2: usize = j + 2 < n ? k0 + 2 * s : k0;
      const k3: usize = j + 3 < n ? k0 + 3 * s : k0;
      for (let c: usize = 0; c < s; c += 8) {
        const x0 = v128.load8x8_s(q0 + c);
        const x1 = v128.load8x8_s(q1 + c);
        const y0 = v128.load8x8_s(k0 + c);
        const y1 = v128.load8x8_s(k1 + c);
        const y2 = v128.load8x8_s(k2 + c);
        const y3 = v128.load8x8_s(k3 + c);
        a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x0, y0));
        a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x0, y1));
        a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x0, y2));
        a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x0, y3));
        b0 = i32x4.add(b0, i32x4.dot_i16x8_s(x1, y0));
        b1 = i32x4.add(b1, i32x4.dot_i16x8_s(x1, y1));
        b2 = i32x4.add(b2, i32x4.dot_i16x8_s(x1, y2));
        b3 = i32x4.add(b3, i32x4.dot_i16x8_s(x1, y3));
      }
      const ks = v128.load(bp(keyScale + j));
      const va = f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(sum4(a0, a1, a2, a3)), sq0), ks);
      const vb = f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(sum4(b0, b1, b2, b3)), sq1), ks);
      const o0: usize = bp(out + r * outStride + j);
      if (j + 4 <= n) {
        v128.store(o0, va);
        if (r + 1 < rows) v128.store(o0 + bp(outStride), vb);
      } else {
        // n - j is 1, 2 or 3.
        store<f32>(o0, f32x4.extract_lane(va, 0));
        if (j + 1 < n) store<f32>(o0, f32x4.extract_lane(va, 1), 4);
        if (j + 2 < n) store<f32>(o0, f32x4.extract_lane(va, 2), 8);
        if (r + 1 < rows) {
          const o1: usize = o0 + bp(outStride);
          store<f32>(o1, f32x4.extract_lane(vb, 0));
          if (j + 1 < n) store<f32>(o1, f32x4.extract_lane(vb, 1), 4);
          if (j + 2 < n) store<f32>(o1, f32x4.extract_lane(vb, 2), 8);
        }
      }
    }
  }
}

// The post-processing of one query row against 8 keys: the integer dot products (two i32x4, keys 0-3 and 4-7) become
// logits minus the row's offset, keys after the row's last key −Infinity, folded into the running maxima.
@inline function biasedMax(m: v128, dots: v128, sq: v128, ks: v128, bias: v128, jv: v128, lastKey: v128): v128 {
  const v = f32x4.sub(f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(dots), sq), ks), bias);
  return f32x4.pmax(m, v128.bitselect(f32x4.splat(NEG_INF), v, i32x4.gt_s(jv, lastKey)));
}

/**
 * Biased column maxima of quantised scores (SALE's per-element threshold test, reduced on the fly): for j < n,
 * dst[j] = max over rows r < rows with j <= last[r] of f32(qi[r] · k[j]) · rowScale[r] · keyScale[j] − rowBias[r],
 * −Infinity when no row sees key j. The scores are never stored.
 *
 * Keys come in groups of 8 with channels interleaved by pairs (`kt`: for each pair p, 16 bytes = keys 0..7 × channels
 * 2p, 2p+1), so one 16-byte load feeds 8 keys and no horizontal sum is needed; qi are int8 rows of `stride` bytes (a
 * multiple of 16, zero padded), `last` an i32 list of tile-relative last keys, keyScale readable up to n rounded up
 * to 8, dst room for as many. Four rows share each key load. With `narrow` (every integer within ±7: 4-bit) the
 * relaxed build multiplies 16 int8 pairs per i16x8.relaxed_dot_i8x16_i7x16_s (one pmaddubsw on x64). That
 * instruction is exact only for a second operand in [0, 127], so the query rows are first copied to `qs` shifted
 * by +8 (1..15) and 8·Σk is taken off each key's sum; i16 lanes hold at most (stride / 2)·2·7·15, so stride <= 256.
 * Otherwise the pairs are widened to i16 and multiplied with i32x4.dot_i16x8_s.
 */
export function quantBiasColMaxT(
  qi: i32,
  rows: i32,
  kt: i32,
  n: i32,
  stride: i32,
  rowScale: i32,
  keyScale: i32,
  rowBias: i32,
  last: i32,
  dst: i32,
  narrow: i32,
  qs: i32,
): void {
  const s: usize = <usize>stride;
  const pairs: usize = s >> 1;
  const relaxed = ASC_FEATURE_RELAXED_SIMD && narrow != 0;
  if (relaxed) {
    const eight = i8x16.splat(8);
    for (let r = 0; r < rows; r++) {
      const src: usize = <usize>(qi + r * stride);
      const to: usize = <usize>(qs + r * stride);
      for (let c: usize = 0; c < s; c += 16) v128.store(to + c, i8x16.add(v128.load(src + c), eight));
    }
  }
  const q0: usize = relaxed ? <usize>qs : <usize>qi;
  const lanes = i32x4(0, 1, 2, 3);
  for (let j = 0; j < n; j += 8) {
    const kg: usize = <usize>(kt + j * stride);
    const ksLo = v128.load(bp(keyScale + j));
    const ksHi = v128.load(bp(keyScale + j + 4));
    const jvLo = i32x4.add(i32x4.splat(j), lanes);
    const jvHi = i32x4.add(i32x4.splat(j + 4), lanes);
    let shift = i16x8.splat(0);
    if (relaxed) {
      for (let p: usize = 0; p < pairs; p++) shift = i16x8.add(shift, i16x8.extadd_pairwise_i8x16_s(v128.load(kg + (p << 4))));
      shift = i16x8.shl(shift, 3);
    }
    let mLo = f32x4.splat(NEG_INF);
    let mHi = mLo;
    for (let r = 0; r < rows; r += 4) {
      // Rows past `rows` repeat the last row: same loads, results not used.
      const a: usize = q0 + <usize>(r * stride);
      const b: usize = r + 1 < rows ? a + s : a;
      const c: usize = r + 2 < rows ? a + 2 * s : a;
      const d: usize = r + 3 < rows ? a + 3 * s : a;
      let aLo: v128;
      let aHi: v128;
      let bLo: v128;
      let bHi: v128;
      let cLo: v128;
      let cHi: v128;
      let dLo: v128;
      let dHi: v128;
      if (relaxed) {
        let sa = i16x8.splat(0);
        let sb = sa;
        let sc = sa;
        let sd = sa;
        for (let p: usize = 0; p < pairs; p++) {
          const kv = v128.load(kg + (p << 4));
          const o: usize = p << 1;
          sa = i16x8.add(sa, i16x8.relaxed_dot_i8x16_i7x16_s(kv, v128.load16_splat(a + o)));
          sb = i16x8.add(sb, i16x8.relaxed_dot_i8x16_i7x16_s(kv, v128.load16_splat(b + o)));
          sc = i16x8.add(sc, i16x8.relaxed_dot_i8x16_i7x16_s(kv, v128.load16_splat(c + o)));
          sd = i16x8.add(sd, i16x8.relaxed_dot_i8x16_i7x16_s(kv, v128.load16_splat(d + o)));
        }
        sa = i16x8.sub(sa, shift);
        sb = i16x8.sub(sb, shift);
        sc = i16x8.sub(sc, shift);
        sd = i16x8.sub(sd, shift);
        aLo = i32x4.extend_low_i16x8_s(sa);
        aHi = i32x4.extend_high_i16x8_s(sa);
        bLo = i32x4.extend_low_i16x8_s(sb);
        bHi = i32x4.extend_high_i16x8_s(sb);
        cLo = i32x4.extend_low_i16x8_s(sc);
        cHi = i32x4.extend_high_i16x8_s(sc);
        dLo = i32x4.extend_low_i16x8_s(sd);
        dHi = i32x4.extend_high_i16x8_s(sd);
      } else {
        aLo = i32x4.splat(0);
        aHi = aLo;
        bLo = aLo;
        bHi = aLo;
        cLo = aLo;
        cHi = aLo;
        dLo = aLo;
        dHi = aLo;
        for (let p: usize = 0; p < pairs; p++) {
          const kv = v128.load(kg + (p << 4));
          const kLo = i16x8.extend_low_i8x16_s(kv);
          const kHi = i16x8.extend_high_i8x16_s(kv);
          const o: usize = p << 1;
          const xa = i16x8.extend_low_i8x16_s(v128.load16_splat(a + o));
          const xb = i16x8.extend_low_i8x16_s(v128.load16_splat(b + o));
          const xc = i16x8.extend_low_i8x16_s(v128.load16_splat(c + o));
          const xd = i16x8.extend_low_i8x16_s(v128.load16_splat(d + o));
          aLo = i32x4.add(aLo, i32x4.dot_i16x8_s(kLo, xa));
          aHi = i32x4.add(aHi, i32x4.dot_i16x8_s(kHi, xa));
          bLo = i32x4.add(bLo, i32x4.dot_i16x8_s(kLo, xb));
          bHi = i32x4.add(bHi, i32x4.dot_i16x8_s(kHi, xb));
          cLo = i32x4.add(cLo, i32x4.dot_i16x8_s(kLo, xc));
          cHi = i32x4.add(cHi, i32x4.dot_i16x8_s(kHi, xc));
          dLo = i32x4.add(dLo, i32x4.dot_i16x8_s(kLo, xd));
          dHi = i32x4.add(dHi, i32x4.dot_i16x8_s(kHi, xd));
        }
      }
      for (let u = 0; u < 4; u++) {
        const row = r + u;
        if (row >= rows) break;
        const lastKey = i32x4.splat(load<i32>(bp(last + row)));
        const sq = f32x4.splat(load<f32>(bp(rowScale + row)));
        const bias = f32x4.splat(load<f32>(bp(rowBias + row)));
        const lo = u == 0 ? aLo : u == 1 ? bLo : u == 2 ? cLo : dLo;
        const hi = u == 0 ? aHi : u == 1 ? bHi : u == 2 ? cHi : dHi;
        mLo = biasedMax(mLo, lo, sq, ksLo, bias, jvLo, lastKey);
        mHi = biasedMax(mHi, hi, sq, ksHi, bias, jvHi, lastKey);
      }
    }
    v128.store(bp(dst + j), mLo);
    v128.store(bp(dst + j + 4), mHi);
  }
}

/** dst[j] = max over r < rows of src[r·stride + j], for j < n (n a multiple of 4, stride too). */
export function colMax(src: i32, rows: i32, n: i32, stride: i32, dst: i32): void {
  for (let j = 0; j < n; j += 4) {
    let m = f32x4.splat(NEG_INF);
    let p: usize = bp(src + j);
    for (let r = 0; r < rows; r++) {
      m = f32x4.pmax(m, v128.load(p));
      p += bp(stride);
    }
    v128.store(bp(dst + j), m);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The `scores` op (src/ops/scores.ts, src/driver/scores-task.ts): key gathering and the per-row reductions run here,
// on each 64-key tile of scaled scores `s` (row stride 64), so no score matrix leaves the kernels for a selection.
// `ja` / `jb` (i32 per row) bound the visible slots [ja[r], jb[r]) of the tile; `keyIdx` (i32 per slot) holds the
// absolute key index of each slot. The TypeScript twins are in src/ts-kernels.ts.

/** kt[c·64 + j] = k[keyIdx[j]·dp + c] for j < n: `n` key rows of a row-major kv head at `k`, stored transposed. */
export function gatherKeys(kt: i32, k: i32, keyIdx: i32, n: i32): void {
  const d = dp;
  // Four keys at a time: 4 channels of each (a 4×4 block) are transposed with shuffles into 4 channel vectors of the
  // four keys, stored whole. The last n mod 4 keys go one lane at a time.
  const n4 = n & ~3;
  for (let j = 0; j < n4; j += 4) {
    const s0: usize = bp(k + load<i32>(bp(keyIdx + j)) * d);
    const s1: usize = bp(k + load<i32>(bp(keyIdx + j + 1)) * d);
    const s2: usize = bp(k + load<i32>(bp(keyIdx + j + 2)) * d);
    const s3: usize = bp(k + load<i32>(bp(keyIdx + j + 3)) * d);
    const dst: usize = bp(kt + j);
    for (let c = 0; c < d; c += 4) {
      const r0 = v128.load(s0 + bp(c));
      const r1 = v128.load(s1 + bp(c));
      const r2 = v128.load(s2 + bp(c));
      const r3 = v128.load(s3 + bp(c));
      // t01 = [r0c0 r1c0 r0c1 r1c1], t23 = [r2c0 r3c0 r2c1 r3c1], and the same for channels 2, 3.
      const t01 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
      const t23 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const u01 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
      const u23 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const o: usize = dst + bp(c * TILE);
      v128.store(o, v128.shuffle<f32>(t01, t23, 0, 1, 4, 5));
      v128.store(o, v128.shuffle<f32>(t01, t23, 2, 3, 6, 7), 256);
      v128.store(o, v128.shuffle<f32>(u01, u23, 0, 1, 4, 5), 512);
      v128.store(o, v128.shuffle<f32>(u01, u23, 2, 3, 6, 7), 768);
    }
  }
  for (let j = n4; j < n; j++) {
    const src: usize = bp(k + load<i32>(bp(keyIdx + j)) * d);
    const dst: usize = bp(kt + j);
    for (let c = 0; c < d; c += 4) {
      const v = v128.load(src + bp(c));
      const o: usize = dst + bp(c * TILE);
      store<f32>(o, f32x4.extract_lane(v, 0));
      store<f32>(o, f32x4.extract_lane(v, 1), 256);
      store<f32>(o, f32x4.extract_lane(v, 2), 512);
      store<f32>(o, f32x4.extract_lane(v, 3), 768);
    }
  }
}

// Row statistics record (12 four-byte slots at an 8-byte aligned index): 0 max value, 1 its key, 2 min value,
// 3 its key, 4–5 count (f64), 6–7 sum (f64), 8–9 sum of squares (f64). Flags: 1 max, 2 min, 4 moments.
const STAT_INTS: i32 = 12;

/** Updates each row's statistics record (at stats + r·12) with the tile's visible scores, in slot order. */
export function rowStats(s: i32, rows: i32, ja: i32, jb: i32, keyIdx: i32, stats: i32, flags: i32): void {
  for (let r = 0; r < rows; r++) {
    const a = load<i32>(bp(ja + r));
    const b = load<i32>(bp(jb + r));
    if (b <= a) continue;
    const rec: usize = bp(stats + r * STAT_INTS);
    const row: usize = bp(s + r * TILE);
    if (flags & 1) {
      let m = load<f32>(rec);
      let at = -1;
      let j = a;
      while (j < b) {
        // Four slots with none above the running max are skipped at once (NaN never is above).
        if (j + 4 <= b && !v128.any_true(f32x4.gt(v128.load(row + bp(j)), f32x4.splat(m)))) {
          j += 4;
          continue;
        }
        const v = load<f32>(row + bp(j));
        if (v > m) {
          m = v;
          at = j;
        }
        j++;
      }
      if (at >= 0) {
        store<f32>(rec, m);
        store<i32>(rec, load<i32>(bp(keyIdx + at)), 4);
      }
    }
    if (flags & 2) {
      let m = load<f32>(rec, 8);
      let at = -1;
      let j = a;
      while (j < b) {
        if (j + 4 <= b && !v128.any_true(f32x4.lt(v128.load(row + bp(j)), f32x4.splat(m)))) {
          j += 4;
          continue;
        }
        const v = load<f32>(row + bp(j));
        if (v < m) {
          m = v;
          at = j;
        }
        j++;
      }
      if (at >= 0) {
        store<f32>(rec, m, 8);
        store<i32>(rec, load<i32>(bp(keyIdx + at)), 12);
      }
    }
    if (flags & 4) {
      // Float64 sums in slot order: the same value a float64 loop over the float32 scores gives.
      let sum = load<f64>(rec, 24);
      let sq = load<f64>(rec, 32);
      for (let j = a; j < b; j++) {
        const v = <f64>load<f32>(row + bp(j));
        sum += v;
        sq += v * v;
      }
      store<f64>(rec, load<f64>(rec, 16) + <f64>(b - a), 16);
      store<f64>(rec, sum, 24);
      store<f64>(rec, sq, 32);
    }
  }
}

// Top-k candidates are u64 keys that order like (score, −key index): the score's bits mapped to an unsigned order
// (−0 counted as +0) in the high word, the complement of the key index in the low word. Larger is better, keys are
// distinct, and a later key equal in score to the k-th best loses, as ties go to the lower key index.
@inline function orderBits(v: f32): u32 {
  const bits = reinterpret<u32>(v + <f32>0.0);
  return bits & 0x80000000 ? ~bits : bits | 0x80000000;
}

@inline function candidateKey(v: f32, key: i32): u64 {
  return ((<u64>orderBits(v)) << 32) | <u64>(~(<u32>key));
}

@inline function candidateScore(c: u64): f32 {
  const o = <u32>(c >> 32);
  return reinterpret<f32>(o & 0x80000000 ? o ^ 0x80000000 : ~o);
}

@inline function candidateIndex(c: u64): i32 {
  return <i32>(~(<u32>c));
}

/** Reorders buf[0..n) (u64 at byte address p) so that its k largest come first (Hoare quickselect, median of three). */
function selectLargest(p: usize, n: i32, k: i32): void {
  let lo = 0;
  let hi = n - 1;
  const want = k - 1;
  while (lo < hi) {
    const x = load<u64>(p + ((<usize>lo) << 3));
    const y = load<u64>(p + ((<usize>((lo + hi) >> 1)) << 3));
    const z = load<u64>(p + ((<usize>hi) << 3));
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (load<u64>(p + ((<usize>i) << 3)) > pivot) i++;
      while (load<u64>(p + ((<usize>j) << 3)) < pivot) j--;
      if (i <= j) {
        const t = load<u64>(p + ((<usize>i) << 3));
        store<u64>(p + ((<usize>i) << 3), load<u64>(p + ((<usize>j) << 3)));
        store<u64>(p + ((<usize>j) << 3), t);
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return;
  }
}

/**
 * Adds each row's visible scores above its floor to its candidates: row r owns `cap` (= 2k) u64 candidates at
 * buf + r·2·cap (i32 index), its count at counts[r] and its floor (the k-th best key once cut, else 0) at
 * floors + 2r. A full buffer is cut back to its k best and the k-th becomes the floor. NaN and -Infinity never enter.
 */
export function rowTopK(s: i32, rows: i32, ja: i32, jb: i32, keyIdx: i32, buf: i32, cap: i32, k: i32, counts: i32, floors: i32): void {
  for (let r = 0; r < rows; r++) {
    const a = load<i32>(bp(ja + r));
    const b = load<i32>(bp(jb + r));
    if (b <= a) continue;
    const row: usize = bp(s + r * TILE);
    const p: usize = bp(buf + r * 2 * cap);
    let n = load<i32>(bp(counts + r));
    let floor = load<u64>(bp(floors + 2 * r));
    // Scores below the floor's score can never enter (one comparison, four lanes at a time).
    let floorScore: f32 = floor == 0 ? NEG_INF : candidateScore(floor);
    let j = a;
    while (j < b) {
      if (j + 4 <= b && !v128.any_true(f32x4.ge(v128.load(row + bp(j)), f32x4.splat(floorScore)))) {
        j += 4;
        continue;
      }
      const v = load<f32>(row + bp(j));
      if (v > NEG_INF && v >= floorScore) {
        const c = candidateKey(v, load<i32>(bp(keyIdx + j)));
        if (c > floor) {
          store<u64>(p + ((<usize>n) << 3), c);
          n++;
          if (n == cap) {
            selectLargest(p, n, k);
            let least = load<u64>(p);
            for (let t = 1; t < k; t++) {
              const x = load<u64>(p + ((<usize>t) << 3));
              if (x < least) least = x;
            }
            floor = least;
            floorScore = candidateScore(floor);
            n = k;
          }
        }
      }
      j++;
    }
    store<i32>(bp(counts + r), n);
    store<u64>(bp(floors + 2 * r), floor);
  }
}

/** Sorts u64 at p[0..n) in ascending order (heapsort: no recursion, no allocation). */
function sortAscending(p: usize, n: i32): void {
  for (let start = (n >> 1) - 1; start >= 0; start--) siftDown(p, start, n);
  for (let end = n - 1; end > 0; end--) {
    const t = load<u64>(p);
    store<u64>(p, load<u64>(p + ((<usize>end) << 3)));
    store<u64>(p + ((<usize>end) << 3), t);
    siftDown(p, 0, end);
  }
}

@inline function siftDown(p: usize, root: i32, n: i32): void {
  let i = root;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) return;
    if (child + 1 < n && load<u64>(p + ((<usize>(child + 1)) << 3)) > load<u64>(p + ((<usize>child) << 3))) child++;
    const x = load<u64>(p + ((<usize>i) << 3));
    const y = load<u64>(p + ((<usize>child) << 3));
    if (x >= y) return;
    store<u64>(p + ((<usize>i) << 3), y);
    store<u64>(p + ((<usize>child) << 3), x);
    i = child;
  }
}

/**
 * One row's final top k from its `count` candidates at buf (i32 index): largest first into values[0..k) and
 * indices[0..k), padded with -Infinity and -1.
 */
export function rowTopKFinish(buf: i32, count: i32, k: i32, values: i32, indices: i32): void {
  const p: usize = bp(buf);
  let n = count;
  if (n > k) {
    selectLargest(p, n, k);
    n = k;
  }
  sortAscending(p, n);
  for (let t = 0; t < k; t++) {
    if (t < n) {
      const c = load<u64>(p + ((<usize>(n - 1 - t)) << 3));
      store<f32>(bp(values + t), candidateScore(c));
      store<i32>(bp(indices + t), candidateIndex(c));
    } else {
      store<f32>(bp(values + t), NEG_INF);
      store<i32>(bp(indices + t), -1);
    }
  }
}

/** The smallest float32 ≥ t: comparing a float32 score with it is the same as comparing in float64 with t. */
@inline function ceilF32(t: f64): f32 {
  const x = <f32>t;
  if (!(<f64>x < t)) return x;
  const bits = reinterpret<u32>(x);
  return reinterpret<f32>(x >= 0 ? bits + 1 : bits - 1);
}

/**
 * Threshold bits: for row r (threshold at f64 index thresholds + 2r... given as an i32 index), bit j of the row's
 * 64-slot tile is set when slot j is visible and its score is ≥ the threshold; the two words go to
 * words + r·wordsPerRow + tileWord (the tile starts at slot tileWord·32, a multiple of 64), ORed in.
 */
export function rowAtLeast(s: i32, rows: i32, ja: i32, jb: i32, thresholds: i32, words: i32, wordsPerRow: i32, tileWord: i32): void {
  for (let r = 0; r < rows; r++) {
    const a = load<i32>(bp(ja + r));
    const b = load<i32>(bp(jb + r));
    if (b <= a) continue;
    const t = f32x4.splat(ceilF32(load<f64>(bp(thresholds + 2 * r))));
    const row: usize = bp(s + r * TILE);
    let lo: u64 = 0;
    for (let j = a & ~3; j < b; j += 4) lo |= (<u64>i32x4.bitmask(f32x4.ge(v128.load(row + bp(j)), t))) << (<u64>j);
    // Keep the visible slots [a, b) only.
    const upper: u64 = b >= 64 ? <u64>0xffffffffffffffff : ((<u64>1) << (<u64>b)) - 1;
    const mask = upper & ~(((<u64>1) << (<u64>a)) - 1);
    lo &= mask;
    if (lo == 0) continue;
    const w: usize = bp(words + r * wordsPerRow + tileWord);
    store<i32>(w, load<i32>(w) | <i32>(<u32>lo));
    if (tileWord + 1 < wordsPerRow) store<i32>(w, load<i32>(w, 4) | <i32>(<u32>(lo >> 32)), 4);
  }
}

/** dst[j] = max(dst[j], s[r][j]) over rows r and their visible slots [ja[r], jb[r]) (NaN never wins). */
export function colMaxRows(s: i32, rows: i32, ja: i32, jb: i32, dst: i32): void {
  for (let r = 0; r < rows; r++) {
    const a = load<i32>(bp(ja + r));
    const b = load<i32>(bp(jb + r));
    const row: usize = bp(s + r * TILE);
    let j = a;
    // pmax(o, v) = o < v ? v : o: exactly the scalar rule below, NaN and signed zeros included.
    for (; j + 4 <= b; j += 4) {
      const o: usize = bp(dst + j);
      v128.store(o, f32x4.pmax(v128.load(o), v128.load(row + bp(j))));
    }
    for (; j < b; j++) {
      const v = load<f32>(row + bp(j));
      const o: usize = bp(dst + j);
      if (v > load<f32>(o)) store<f32>(o, v);
    }
  }
}

/** dst[j·dp ..] = k[keyIdx[j]·dp ..] for j < n: `n` listed rows of a row-major kv head copied whole. */
export function gatherRows(dst: i32, k: i32, keyIdx: i32, n: i32): void {
  const d = dp;
  for (let j = 0; j < n; j++) {
    const src: usize = bp(k + load<i32>(bp(keyIdx + j)) * d);
    const to: usize = bp(dst + j * d);
    for (let c = 0; c < d; c += 4) v128.store(to + bp(c), v128.load(src + bp(c)));
  }
}

/**
 * dst[r] = max(dst[r], s[r][0..cols)) for r < rows (row stride 64): the column maxima of a key group computed with
 * keys as rows. NaN never wins; among equal values (+0 and −0) which one is kept is unspecified.
 */
export function rowMaxInto(s: i32, rows: i32, cols: i32, dst: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const row: usize = bp(s + r * TILE);
    let v = f32x4.splat(NEG_INF);
    for (let j = 0; j < c4; j += 4) v = f32x4.pmax(v, v128.load(row + bp(j)));
    let m = hmax(v);
    for (let j = c4; j < cols; j++) {
      const x = load<f32>(row + bp(j));
      if (x > m) m = x;
    }
    const o: usize = bp(dst + r);
    if (m > load<f32>(o)) store<f32>(o, m);
  }
}

/**
 * dst[j] = max(dst[j], scale · max over r < cols of K[keyIdx[j]] · bt[·][r]) for j < n (<= 64): listed rows of a
 * row-major kv head at `k` (stride dp), read in place, against the group's query rows transposed in `bt` (stride 64),
 * whose columns from cols up to cols rounded to 8 must repeat a real column (the caller pads them). scale > 0, so the
 * scaled maximum equals the maximum of the scaled scores (rounding is monotone) and each key's dot products are the
 * ones qkTile computes: the same results as gathering the rows, scoreBlock, then rowMaxInto, without a copy of the
 * rows or the scores. The maxima stay in registers.
 */
export function columnMaxTile(scr: i32, k: i32, keyIdx: i32, n: i32, bt: i32, cols: i32, dst: i32, scale: f32): void {
  const d = dp;
  const rowBytes: usize = bp(d);
  const c8 = (cols + 7) & ~7;
  for (let r = 0; r < n; r += 4) {
    // Four keys' rows; past the n-th key the first one repeats (its maxima are not stored).
    const at: usize = bp(keyIdx + r);
    const k0: usize = bp(k + load<i32>(at) * d);
    const k1: usize = r + 1 < n ? bp(k + load<i32>(at, 4) * d) : k0;
    const k2: usize = r + 2 < n ? bp(k + load<i32>(at, 8) * d) : k0;
    const k3: usize = r + 3 < n ? bp(k + load<i32>(at, 12) * d) : k0;
    let m0 = f32x4.splat(NEG_INF);
    let m1 = m0;
    let m2 = m0;
    let m3 = m0;
    for (let j = 0; j < c8; j += 8) {
      let x00 = f32x4.splat(0);
      let x01 = x00;
      let x10 = x00;
      let x11 = x00;
      let x20 = x00;
      let x21 = x00;
      let x30 = x00;
      let x31 = x00;
      let bq: usize = bp(bt + j);
      for (let o: usize = 0; o < rowBytes; o += 4) {
        const b0 = v128.load(bq);
        const b1 = v128.load(bq, 16);
        const s0 = v128.load32_splat(k0 + o);
        const s1 = v128.load32_splat(k1 + o);
        const s2 = v128.load32_splat(k2 + o);
        const s3 = v128.load32_splat(k3 + o);
        x00 = madd(s0, b0, x00);
        x01 = madd(s0, b1, x01);
        x10 = madd(s1, b0, x10);
        x11 = madd(s1, b1, x11);
        x20 = madd(s2, b0, x20);
        x21 = madd(s2, b1, x21);
        x30 = madd(s3, b0, x30);
        x31 = madd(s3, b1, x31);
        bq += 256;
      }
      m0 = f32x4.pmax(f32x4.pmax(m0, x00), x01);
      m1 = f32x4.pmax(f32x4.pmax(m1, x10), x11);
      m2 = f32x4.pmax(f32x4.pmax(m2, x20), x21);
      m3 = f32x4.pmax(f32x4.pmax(m3, x30), x31);
    }
    // Four of the next tile's rows per block of four keys: a full tile of 64 keys covers a full next tile.
    if (r < pfRowsN) pfSink += touchRows(r);
    const rem = min(4, n - r);
    foldMax(dst + r, hmax(m0) * scale);
    if (rem > 1) foldMax(dst + r + 1, hmax(m1) * scale);
    if (rem > 2) foldMax(dst + r + 2, hmax(m2) * scale);
    if (rem > 3) foldMax(dst + r + 3, hmax(m3) * scale);
  }
  pfRowsN = 0;
}

@inline function foldMax(at: i32, m: f32): void {
  const o: usize = bp(at);
  if (m > load<f32>(o)) store<f32>(o, m);
}

// ---------------------------------------------------------------------------------------------------------------
// Linear layers (y = x·Wᵀ). W is packed once in panels of 8 outputs, wp[(p·inDim + j)·8 + c] = W[8p + c][j] (zero
// past the last output), so one step over j loads the 8 weights of a panel as two vectors and multiplies them by
// a broadcast x value of each row.

/**
 * out[r·outStride + 8p + c] = Σ_j x[r·xStride + j] · wp[(p·inDim + j)·8 + c] for r < rows, p0 <= p < p1, c < 8.
 * Panel by panel (8·inDim weights, in L1) over 4 rows at a time: 8 accumulators, 2 weight loads and 4 broadcasts
 * per 8 multiply-adds. Leftover rows take 4 panels at a time (8 independent accumulators, the decode shape).
 */
export function linearRows(x: i32, xStride: i32, rows: i32, wp: i32, inDim: i32, p0: i32, p1: i32, out: i32, outStride: i32): void {
  const xs: usize = bp(xStride);
  const os: usize = bp(outStride);
  const panelBytes: usize = bp(inDim * 8);
  const rows4 = rows & ~3;
  for (let p = p0; p < p1; p++) {
    const wBase: usize = bp(wp) + <usize>p * panelBytes;
    for (let r = 0; r < rows4; r += 4) {
      let xa: usize = bp(x + r * xStride);
      let w = wBase;
      let a0 = f32x4.splat(0);
      let b0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let b1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let b2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let b3 = f32x4.splat(0);
      for (let j = 0; j < inDim; j++) {
        const w0 = v128.load(w);
        const w1 = v128.load(w, 16);
        const s0 = v128.load32_splat(xa);
        const s1 = v128.load32_splat(xa + xs);
        const s2 = v128.load32_splat(xa + 2 * xs);
        const s3 = v128.load32_splat(xa + 3 * xs);
        a0 = madd(s0, w0, a0);
        b0 = madd(s0, w1, b0);
        a1 = madd(s1, w0, a1);
        b1 = madd(s1, w1, b1);
        a2 = madd(s2, w0, a2);
        b2 = madd(s2, w1, b2);
        a3 = madd(s3, w0, a3);
        b3 = madd(s3, w1, b3);
        w += 32;
        xa += 4;
      }
      const o: usize = bp(out + r * outStride + p * 8);
      v128.store(o, a0);
      v128.store(o, b0, 16);
      v128.store(o + os, a1);
      v128.store(o + os, b1, 16);
      v128.store(o + 2 * os, a2);
      v128.store(o + 2 * os, b2, 16);
      v128.store(o + 3 * os, a3);
      v128.store(o + 3 * os, b3, 16);
    }
  }
  for (let r = rows4; r < rows; r++) linearRow(bp(x + r * xStride), wp, inDim, p0, p1, bp(out + r * outStride));
}

/** One row of linearRows: 4 panels (32 outputs) per pass over j, then single panels. */
function linearRow(xa: usize, wp: i32, inDim: i32, p0: i32, p1: i32, o: usize): void {
  const panelBytes: usize = bp(inDim * 8);
  let p = p0;
  for (; p + 4 <= p1; p += 4) {
    let w: usize = bp(wp) + <usize>p * panelBytes;
    let xj = xa;
    let a0 = f32x4.splat(0);
    let b0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let b1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let b2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let b3 = f32x4.splat(0);
    for (let j = 0; j < inDim; j++) {
      const s = v128.load32_splat(xj);
      a0 = madd(s, v128.load(w), a0);
      b0 = madd(s, v128.load(w, 16), b0);
      a1 = madd(s, v128.load(w + panelBytes), a1);
      b1 = madd(s, v128.load(w + panelBytes, 16), b1);
      a2 = madd(s, v128.load(w + 2 * panelBytes), a2);
      b2 = madd(s, v128.load(w + 2 * panelBytes, 16), b2);
      a3 = madd(s, v128.load(w + 3 * panelBytes), a3);
      b3 = madd(s, v128.load(w + 3 * panelBytes, 16), b3);
      w += 32;
      xj += 4;
    }
    const at = o + bp(p * 8);
    v128.store(at, a0);
    v128.store(at, b0, 16);
    v128.store(at, a1, 32);
    v128.store(at, b1, 48);
    v128.store(at, a2, 64);
    v128.store(at, b2, 80);
    v128.store(at, a3, 96);
    v128.store(at, b3, 112);
  }
  for (; p < p1; p++) {
    let w: usize = bp(wp) + <usize>p * panelBytes;
    let xj = xa;
    let a = f32x4.splat(0);
    let b = f32x4.splat(0);
    for (let j = 0; j < inDim; j++) {
      const s = v128.load32_splat(xj);
      a = madd(s, v128.load(w), a);
      b = madd(s, v128.load(w, 16), b);
      w += 32;
      xj += 4;
    }
    const at = o + bp(p * 8);
    v128.store(at, a);
    v128.store(at, b, 16);
  }
}
