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

/** Scaled q·k of query rows [rowStart, rowStart + rows) against every key; future keys -1e30. Output `[kvLength, heads · rows]`. */
export function rowScoresKernel(
  this: KernelThis<DimConstants>,
  q: Grid,
  k: Grid,
  qLength: number,
  kvLength: number,
  rowStart: number,
  rows: number,
  qOffset: number,
  groupSize: number,
  causal: number,
  scale: number,
): number {
  const h = Math.floor((this.thread.y + 0.5) / rows);
  const i = rowStart + this.thread.y - h * rows;
  if (causal > 0 && this.thread.x > qOffset + i) return -1e30;
  const qRow = h * qLength + i;
  const kRow = Math.floor((h + 0.5) / groupSize) * kvLength + this.thread.x;
  let s = 0;
  for (let c = 0; c < this.constants.dim; c++) s += q[qRow]![c]! * k[kRow]![c]!;
  return s * scale;
}

/** log Σ exp over each row of a `[width][rows]` score grid, skipping masked entries. Output `[rows]`. */
export function gridRowLogSumExpKernel(this: KernelThis<DimConstants>, scores: Grid, width: number): number {
  let m = -1e30;
  for (let j = 0; j < width; j++) m = Math.max(m, scores[this.thread.x]![j]!);
  if (m <= -1e29) return -1e30;
  // Distinct loop variable names: gpu.js's cpu mode declares loop variables once per kernel.
  let sum = 0;
  for (let j2 = 0; j2 < width; j2++) {
    const s = scores[this.thread.x]![j2]!;
    if (s > -1e29) sum += Math.exp(s - m);
  }
  return m + Math.log(sum);
}

/** exp(score − lse of its row), 0 where masked. Output: the score grid's shape. */
export function gridProbabilitiesKernel(this: KernelThis<DimConstants>, scores: Grid, lse: Line): number {
  const s = scores[this.thread.y]![this.thread.x]!;
  if (s <= -1e29) return 0;
  return Math.exp(s - lse[this.thread.y]!);
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
 * as JS's Math.round. Output `[dim, heads · rows]` of integers.
 */
export function quantizeRowsKernel(
  this: KernelThis<DimConstants>,
  x: Grid,
  mean: Grid,
  length: number,
  rowStart: number,
  rows: number,
  qmax: number,
): number {
  const head = Math.floor((this.thread.y + 0.5) / rows);
  const row = head * length + rowStart + this.thread.y - head * rows;
  let absmax = 0;
  for (let c = 0; c < this.constants.dim; c++) absmax = Math.max(absmax, Math.abs(x[row]![c]! - mean[head]![c]!));
  let scale = 1;
  if (absmax > 0) scale = absmax / qmax;
  const level = Math.floor((x[row]![this.thread.x]! - mean[head]![this.thread.x]!) / scale + 0.5);
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

/** scale · s_q · s_k · (q_int · k_int) for each requested query row and key; future keys -1e30. Output `[kvLength, heads · rows]`. */
export function quantizedDotKernel(
  this: KernelThis<DimConstants>,
  qInt: Grid,
  qScale: Line,
  kInt: Grid,
  kScale: Line,
  kvLength: number,
  rowStart: number,
  rows: number,
  qOffset: number,
  groupSize: number,
  causal: number,
  scale: number,
): number {
  const h = Math.floor((this.thread.y + 0.5) / rows);
  const i = rowStart + this.thread.y - h * rows;
  if (causal > 0 && this.thread.x > qOffset + i) return -1e30;
  const kRow = Math.floor((h + 0.5) / groupSize) * kvLength + this.thread.x;
  let dot = 0;
  for (let c = 0; c < this.constants.dim; c++) dot += qInt[this.thread.y]![c]! * kInt[kRow]![c]!;
  return dot * qScale[this.thread.y]! * kScale[kRow]! * scale;
}

/** Max of each (blockQ × blockK) tile of a `[kvLength][heads · qLength]` score grid. Output `[kBlocks, heads · qBlocks]`. */
export function blockMaxKernel(
  this: KernelThis<DimConstants>,
  scores: Grid,
  qLength: number,
  kvLength: number,
  qBlocks: number,
  blockQ: number,
  blockK: number,
): number {
  const h = Math.floor((this.thread.y + 0.5) / qBlocks);
  const qb = this.thread.y - h * qBlocks;
  const i0 = qb * blockQ;
  const i1 = Math.min(qLength, i0 + blockQ);
  const j0 = this.thread.x * blockK;
  const j1 = Math.min(kvLength, j0 + blockK);
  let m = -1e30;
  for (let i = 0; i < i1 - i0; i++) {
    for (let j = 0; j < j1 - j0; j++) m = Math.max(m, scores[h * qLength + i0 + i]![j0 + j]!);
  }
  return m;
}
