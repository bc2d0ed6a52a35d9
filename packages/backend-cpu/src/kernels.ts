/**
 * The tile operations both implementations provide, with identical signatures and results: the WebAssembly
 * exports of assembly/kernels.ts and their TypeScript twins in ts-kernels.ts. Pointers are element indices into
 * the shared memory (f32 and i32 elements; int8 data in bytes). See assembly/kernels.ts for each contract.
 */
export interface Kernels extends ScoreKernels {
  configure(paddedDim: number): void;
  begin(scr: number, rowTable: number, rows: number, scale: number): void;
  tileScores(scr: number, rows: number, kt: number, n: number, mode: number, pos0: number, posList: number, bitmap: number): void;
  tileUpdate(scr: number, rows: number, v: number, n: number): void;
  tile(scr: number, rows: number, kt: number, v: number, n: number, mode: number, pos0: number, posList: number, bitmap: number): void;
  /** Performance hint only: the next tile reads kFloats elements at k and vFloats at v (the TS kernels ignore it). */
  prefetch(k: number, kFloats: number, v: number, vFloats: number): void;
  /** A hint that the next columnMaxTile reads the n rows of k listed at keyIdx (results never depend on it). */
  prefetchRows(k: number, keyIdx: number, n: number): void;
  finish(scr: number, rowTable: number, rows: number): void;
  gather(scr: number, kp: number, v: number, cols: number, count: number): void;
  /** Dequantises tokens [t0, t0 + count) (count <= 64) of the packed block described at `desc` into KG and VG. */
  unpackTile(scr: number, desc: number, t0: number, count: number): void;
  scoreBlock(scr: number, q: number, rows: number, kt: number, n: number, out: number, outStride: number, scale: number): void;
  /** Column maxima of listed key rows, read in place, against a transposed query tile (gatherRows, scoreBlock then rowMaxInto; scale > 0). */
  columnMaxTile(scr: number, k: number, keyIdx: number, n: number, bt: number, cols: number, dst: number, scale: number): void;
  /** A probe tile for lastQueriesSums: scores, then per row its keys' exp(x − m) at out and (m, l) at stats. */
  probeTile(
    scr: number,
    q: number,
    rows: number,
    kt: number,
    n: number,
    last: number,
    k0: number,
    out: number,
    outStride: number,
    scale: number,
    stats: number,
    statStride: number,
  ): void;
  /**
   * One probeTile row (n keys, its tiles' (m, l) at stats) as probabilities added to the float64 sums: vertical[j]
   * += p[j], slash[s − j] += p[j]; vertical and s index f64 elements. Each tile's m is replaced by exp(m − M).
   */
  probeTileSums(row: number, n: number, stats: number, vertical: number, s: number): void;
  softmaxRow(row: number, count: number): void;
  quantScores(
    qi: number,
    rows: number,
    ki: number,
    n: number,
    stride: number,
    rowScale: number,
    keyScale: number,
    out: number,
    outStride: number,
  ): void;
  colMax(src: number, rows: number, n: number, stride: number, dst: number): void;
  quantBiasColMaxT(
    qi: number,
    rows: number,
    kt: number,
    n: number,
    stride: number,
    rowScale: number,
    keyScale: number,
    rowBias: number,
    last: number,
    dst: number,
    narrow: number,
    qs: number,
  ): void;
  /** Linear layer rows against weights packed in panels of 8 outputs (see assembly/kernels.ts). */
  linearRows(
    x: number,
    xStride: number,
    rows: number,
    wp: number,
    inDim: number,
    p0: number,
    p1: number,
    out: number,
    outStride: number,
  ): void;
}

/**
 * The `scores` op's kernels (assembly/kernels.ts, end of file): key gathering and the per-row reductions over one
 * tile of scaled scores `s` (row stride 64). `ja` / `jb` bound each row's visible slots of the tile, `keyIdx` holds
 * each slot's absolute key index. See assembly/kernels.ts for each contract.
 */
export interface ScoreKernels {
  gatherKeys(kt: number, k: number, keyIdx: number, n: number): void;
  rowStats(s: number, rows: number, ja: number, jb: number, keyIdx: number, stats: number, flags: number): void;
  rowTopK(
    s: number,
    rows: number,
    ja: number,
    jb: number,
    keyIdx: number,
    buf: number,
    cap: number,
    k: number,
    counts: number,
    floors: number,
  ): void;
  rowTopKFinish(buf: number, count: number, k: number, values: number, indices: number): void;
  rowAtLeast(
    s: number,
    rows: number,
    ja: number,
    jb: number,
    thresholds: number,
    words: number,
    wordsPerRow: number,
    tileWord: number,
  ): void;
  colMaxRows(s: number, rows: number, ja: number, jb: number, dst: number): void;
  gatherRows(dst: number, k: number, keyIdx: number, n: number): void;
  rowMaxInto(s: number, rows: number, cols: number, dst: number): void;
}

/** rowStats flags and record layout (12 four-byte slots per row: max, its key, min, its key, then f64 count, sum, sum of squares). */
export const STAT_MAX = 1;
export const STAT_MIN = 2;
export const STAT_MOMENTS = 4;
export const STAT_INTS = 12;

/** Mask modes of tileScores / tile. */
export const MODE_CAUSAL = 1;
export const MODE_BITMAP = 2;
export const MODE_POSITIONS = 4;
