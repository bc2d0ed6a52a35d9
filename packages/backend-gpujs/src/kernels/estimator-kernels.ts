import type { DimConstants, Grid, KernelThis, Line } from './kernel-this.js';

// Kernels of the estimator ops (pooledScores, lastQueriesAttention, quantizedScores). Tensors are `[heads · length][dim]`
// grids; -1e30 marks a masked score (the host turns it into -Infinity). Constant: dim.

/**
 * Pools blocks of `block` rows of a tensor with mean (kind 0), max (1) or min (2). Output `[dim, heads · blocks]`;
 * the last block of a head may be shorter.
 */
export function poolRowsKernel(
  this: KernelThis<DimConstants>,
  x: Grid,
  length: number,
  block: number,
  blocks: number,
  kind: number,
): number {
  const head = Math.floor((this.thread.y + 0.5) / blocks);
  const b = this.thread.y - head * blocks;
  const r0 = b * block;
  const r1 = Math.min(length, r0 + block);
  let acc = 0;
  if (kind === 1) acc = -1e30;
  if (kind === 2) acc = 1e30;
  // Loops count from an integer 0: WGSL cannot increment a float loop variable.
  for (let n = 0; n < r1 - r0; n++) {
    const value = x[head * length + r0 + n]![this.thread.x]!;
    if (kind === 0) acc += value;
    else if (kind === 1) acc = Math.max(acc, value);
    else acc = Math.min(acc, value);
  }
  if (kind === 0) acc = acc / (r1 - r0);
  return acc;
}

/** scale · pooled q · pooled k per (query head, query block, key block); future blocks -1e30. Output `[kBlocks, heads · qBlocks]`. */
export function pooledDotKernel(
  this: KernelThis<DimConstants>,
  pooledQ: Grid,
  pooledK: Grid,
  qBlocks: number,
  kBlocks: number,
  qLength: number,
  blockQ: number,
  blockK: number,
  qOffset: number,
  groupSize: number,
  causal: number,
  scale: number,
): number {
  const h = Math.floor((this.thread.y + 0.5) / qBlocks);
  const qb = this.thread.y - h * qBlocks;
  const lastQuery = qOffset + Math.min(qLength, (qb + 1) * blockQ) - 1;
  if (causal > 0 && this.thread.x * blockK > lastQuery) return -1e30;
  const kRow = Math.floor((h + 0.5) / groupSize) * kBlocks + this.thread.x;
  let s = 0;
  for (let c = 0; c < this.constants.dim; c++) s += pooledQ[this.thread.y]![c]! * pooledK[kRow]![c]!;
  return s * scale;
}

/** Per-channel mean of K over the sequence when `smooth` is 1, else 0 (SALE's smoothing). Output `[dim, kvHeads]`. */
export function channelMeanKernel(this: KernelThis<DimConstants>, k: Grid, kvLength: number, smooth: number): number {
  if (smooth < 0.5) return 0;
  let sum = 0;
  for (let j = 0; j < kvLength; j++) sum += k[this.thread.y * kvLength + j]![this.thread.x]!;
  return sum / kvLength;
}

/**
 * Symmetric per-row quantisation of rows [rowStart, rowStart + rows) of each head, after subtracting `mean` (one row
 * per head): round((x − mean) / s) clamped to ±qmax, with s = absmax / qmax (1 for an all-zero row). Round half up,
 * as JS's Math.round. Output: integers `[heads · rows][dim]`, packed `perLine` rows to a line
 * (`[perLine · dim, ⌈heads · rows / perLine⌉]`) to stay within texture and dispatch limits.
 */
export function quantizeRowsKernel(
  this: KernelThis<DimConstants>,
  x: Grid,
  mean: Grid,
  length: number,
  rowStart: number,
  rows: number,
  perLine: number,
  qmax: number,
): number {
  const dim = this.constants.dim;
  const slot = Math.floor((this.thread.x + 0.5) / dim);
  const channel = this.thread.x - slot * dim;
  const out = this.thread.y * perLine + slot;
  const head = Math.floor((out + 0.5) / rows);
  const row = head * length + rowStart + out - head * rows;
  let absmax = 0;
  for (let c = 0; c < dim; c++) absmax = Math.max(absmax, Math.abs(x[row]![c]! - mean[head]![c]!));
  let scale = 1;
  if (absmax > 0) scale = absmax / qmax;
  const level = Math.floor((x[row]![channel]! - mean[head]![channel]!) / scale + 0.5);
  return Math.max(-qmax, Math.min(qmax, level));
}

/** The quantisation scale of each of those rows (absmax / qmax, or 1). Output `[heads · rows]`. */
export function quantizeScaleKernel(
  this: KernelThis<DimConstants>,
  x: Grid,
  mean: Grid,
  length: number,
  rowStart: number,
  rows: number,
  qmax: number,
): number {
  const head = Math.floor((this.thread.x + 0.5) / rows);
  const row = head * length + rowStart + this.thread.x - head * rows;
  let absmax = 0;
  for (let c = 0; c < this.constants.dim; c++) absmax = Math.max(absmax, Math.abs(x[row]![c]! - mean[head]![c]!));
  if (absmax > 0) return absmax / qmax;
  return 1;
}

/**
 * scale · s_q · s_k · (q_int · k_int) for each requested query row and key; future keys -1e30. The int rows come
 * packed `qPerLine` / `kPerLine` to a line (quantizeRowsKernel). Output `[kvLength, heads · rows]`.
 */
export function quantizedDotKernel(
  this: KernelThis<DimConstants>,
  qInt: Grid,
  qScale: Line,
  kInt: Grid,
  kScale: Line,
  qPerLine: number,
  kPerLine: number,
  kvLength: number,
  rowStart: number,
  rows: number,
  qOffset: number,
  groupSize: number,
  causal: number,
  scale: number,
): number {
  const dim = this.constants.dim;
  const h = Math.floor((this.thread.y + 0.5) / rows);
  const i = rowStart + this.thread.y - h * rows;
  if (causal > 0 && this.thread.x > qOffset + i) return -1e30;
  const kRow = Math.floor((h + 0.5) / groupSize) * kvLength + this.thread.x;
  const qLine = Math.floor((this.thread.y + 0.5) / qPerLine);
  const qx = (this.thread.y - qLine * qPerLine) * dim;
  const kLine = Math.floor((kRow + 0.5) / kPerLine);
  const kx = (kRow - kLine * kPerLine) * dim;
  let dot = 0;
  for (let c = 0; c < dim; c++) dot += qInt[qLine]![qx + c]! * kInt[kLine]![kx + c]!;
  return dot * qScale[this.thread.y]! * kScale[kRow]! * scale;
}

/**
 * The max estimated logit of each (blockQ × blockK) tile, computed in place (no `[qLength][kvLength]` intermediate):
 * scale · s_q · s_k · (q_int · k_int) over the tile's pairs, -1e30 when causality removes them all. Query ints
 * cover every row. Output `[kBlocks, heads · qBlocks]`.
 */
export function quantizedBlockMaxKernel(
  this: KernelThis<DimConstants>,
  qInt: Grid,
  qScale: Line,
  kInt: Grid,
  kScale: Line,
  qPerLine: number,
  kPerLine: number,
  qLength: number,
  kvLength: number,
  qBlocks: number,
  blockQ: number,
  blockK: number,
  qOffset: number,
  groupSize: number,
  causal: number,
  scale: number,
): number {
  const dim = this.constants.dim;
  const h = Math.floor((this.thread.y + 0.5) / qBlocks);
  const qb = this.thread.y - h * qBlocks;
  const i0 = qb * blockQ;
  const j0 = this.thread.x * blockK;
  const kBase = Math.floor((h + 0.5) / groupSize) * kvLength;
  let m = -1e30;
  for (let a = 0; a < Math.min(blockQ, qLength - i0); a++) {
    const qRow = h * qLength + i0 + a;
    const qLine = Math.floor((qRow + 0.5) / qPerLine);
    const qx = (qRow - qLine * qPerLine) * dim;
    for (let b = 0; b < Math.min(blockK, kvLength - j0); b++) {
      if (causal < 0.5 || j0 + b <= qOffset + i0 + a) {
        const kRow = kBase + j0 + b;
        const kLine = Math.floor((kRow + 0.5) / kPerLine);
        const kx = (kRow - kLine * kPerLine) * dim;
        let dot = 0;
        for (let c = 0; c < dim; c++) dot += qInt[qLine]![qx + c]! * kInt[kLine]![kx + c]!;
        m = Math.max(m, dot * qScale[qRow]! * kScale[kRow]! * scale);
      }
    }
  }
  return m;
}

/**
 * quantizeRowsKernel with one scale per group of `group` consecutive rows of a head (the absmax over the group's
 * rows, all of them, even outside the requested range): SALE's per-group scales. Same output layout.
 */
export function quantizeGroupedRowsKernel(
  this: KernelThis<DimConstants>,
  x: Grid,
  mean: Grid,
  length: number,
  rowStart: number,
  rows: number,
  perLine: number,
  qmax: number,
  group: number,
): number {
  const dim = this.constants.dim;
  const slot = Math.floor((this.thread.x + 0.5) / dim);
  const channel = this.thread.x - slot * dim;
  const out = this.thread.y * perLine + slot;
  const head = Math.floor((out + 0.5) / rows);
  const inHead = rowStart + out - head * rows;
  const g0 = Math.floor((inHead + 0.5) / group) * group;
  let absmax = 0;
  // Integer loop counters from 0 (WGSL increments only integers).
  for (let t = 0; t < Math.min(group, length - g0); t++) {
    for (let c = 0; c < dim; c++) absmax = Math.max(absmax, Math.abs(x[head * length + g0 + t]![c]! - mean[head]![c]!));
  }
  let scale = 1;
  if (absmax > 0) scale = absmax / qmax;
  const level = Math.floor((x[head * length + inHead]![channel]! - mean[head]![channel]!) / scale + 0.5);
  return Math.max(-qmax, Math.min(qmax, level));
}

/** The group scale of each requested row (quantizeGroupedRowsKernel's). Output `[heads · rows]`. */
export function quantizeGroupedScaleKernel(
  this: KernelThis<DimConstants>,
  x: Grid,
  mean: Grid,
  length: number,
  rowStart: number,
  rows: number,
  qmax: number,
  group: number,
): number {
  const head = Math.floor((this.thread.x + 0.5) / rows);
  const inHead = rowStart + this.thread.x - head * rows;
  const g0 = Math.floor((inHead + 0.5) / group) * group;
  let absmax = 0;
  for (let t = 0; t < Math.min(group, length - g0); t++) {
    for (let c = 0; c < this.constants.dim; c++) absmax = Math.max(absmax, Math.abs(x[head * length + g0 + t]![c]! - mean[head]![c]!));
  }
  if (absmax > 0) return absmax / qmax;
  return 1;
}

/**
 * quantizedBlockMaxKernel with a per-row offset subtracted before the max (SALE's row thresholds): the max over the
 * tile of scale · s_q · s_k · (q_int · k_int) − rowBias[row], -1e30 when causality removes every pair.
 */
export function quantizedBlockMaxBiasedKernel(
  this: KernelThis<DimConstants>,
  qInt: Grid,
  qScale: Line,
  kInt: Grid,
  kScale: Line,
  rowBias: Line,
  qPerLine: number,
  kPerLine: number,
  qLength: number,
  kvLength: number,
  qBlocks: number,
  blockQ: number,
  blockK: number,
  qOffset: number,
  groupSize: number,
  causal: number,
  scale: number,
): number {
  const dim = this.constants.dim;
  const h = Math.floor((this.thread.y + 0.5) / qBlocks);
  const qb = this.thread.y - h * qBlocks;
  const i0 = qb * blockQ;
  const j0 = this.thread.x * blockK;
  const kBase = Math.floor((h + 0.5) / groupSize) * kvLength;
  let m = -1e30;
  for (let a = 0; a < Math.min(blockQ, qLength - i0); a++) {
    const qRow = h * qLength + i0 + a;
    const qLine = Math.floor((qRow + 0.5) / qPerLine);
    const qx = (qRow - qLine * qPerLine) * dim;
    for (let b = 0; b < Math.min(blockK, kvLength - j0); b++) {
      if (causal < 0.5 || j0 + b <= qOffset + i0 + a) {
        const kRow = kBase + j0 + b;
        const kLine = Math.floor((kRow + 0.5) / kPerLine);
        const kx = (kRow - kLine * kPerLine) * dim;
        let dot = 0;
        for (let c = 0; c < dim; c++) dot += qInt[qLine]![qx + c]! * kInt[kLine]![kx + c]!;
        m = Math.max(m, dot * qScale[qRow]! * kScale[kRow]! * scale - rowBias[qRow]!);
      }
    }
  }
  return m;
}
