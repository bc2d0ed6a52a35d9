/**
 * The tile operations both implementations provide, with identical signatures and results: the WebAssembly
 * exports of assembly/kernels.ts and their TypeScript twins in ts-kernels.ts. Pointers are element indices into
 * the shared memory (f32 and i32 elements; int8 data in bytes). See assembly/kernels.ts for each contract.
 */
export interface Kernels {
  configure(paddedDim: number): void;
  begin(scr: number, rowTable: number, rows: number, scale: number): void;
  tileScores(scr: number, rows: number, kt: number, n: number, mode: number, pos0: number, posList: number, bitmap: number): void;
  tileUpdate(scr: number, rows: number, v: number, n: number): void;
  tile(scr: number, rows: number, kt: number, v: number, n: number, mode: number, pos0: number, posList: number, bitmap: number): void;
  /** Performance hint only: the next tile reads kFloats elements at k and vFloats at v (the TS kernels ignore it). */
  prefetch(k: number, kFloats: number, v: number, vFloats: number): void;
  finish(scr: number, rowTable: number, rows: number): void;
  gather(scr: number, kp: number, v: number, cols: number, count: number): void;
  /** Dequantises tokens [t0, t0 + count) (count <= 64) of the packed block described at `desc` into KG and VG. */
  unpackTile(scr: number, desc: number, t0: number, count: number): void;
  scoreBlock(scr: number, q: number, rows: number, kt: number, n: number, out: number, outStride: number, scale: number): void;
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

/** Mask modes of tileScores / tile. */
export const MODE_CAUSAL = 1;
export const MODE_BITMAP = 2;
export const MODE_POSITIONS = 4;
