import type { Grid, KernelThis, Line } from './kernel-this.js';

// The four kernels of one attention call over a WorkPlan (see plan/work-plan.ts). Scores and probabilities live in a
// `[items · tileQ][tileK]` grid: row `item · tileQ + r` holds tile row r against the item's tileK keys. Only planned
// items exist, so absent blocks cost nothing. Constants: tileQ, tileK, dim. -1e30 marks a pair that is not computed
// (see MASKED in kernel-this.ts: kernel sources cannot import it).

/**
 * Scaled q·k for every pair of every item, or -1e30 where the pair is outside the sequence, in the future of a
 * causal call, or cleared in the item's bitmap. Output `[tileK, items · tileQ]`.
 */
export function blockScoresKernel(
  this: KernelThis,
  q: Grid,
  k: Grid,
  items: Grid,
  keyRows: Grid,
  bitmaps: Grid,
  qLength: number,
  kvLength: number,
  qOffset: number,
  groupSize: number,
  causal: number,
  scale: number,
): number {
  const tileQ = this.constants.tileQ;
  const item = Math.floor(this.thread.y / tileQ);
  const r = this.thread.y - item * tileQ;
  const h = items[item]![0]!;
  const i = items[item]![1]! * tileQ + r;
  if (i >= qLength) return -1e30;
  let key = items[item]![2]! + this.thread.x;
  const gatherRow = items[item]![3]!;
  if (gatherRow >= 0) key = keyRows[gatherRow]![this.thread.x]!;
  if (key < 0 || key >= kvLength) return -1e30;
  if (causal > 0 && key > qOffset + i) return -1e30;
  const bitmap = items[item]![4]!;
  if (bitmap >= 0) {
    if (bitmaps[bitmap * tileQ + r]![this.thread.x]! < 0.5) return -1e30;
  }
  const qRow = h * qLength + i;
  const kRow = Math.floor(h / groupSize) * kvLength + key;
  let s = 0;
  for (let c = 0; c < this.constants.dim; c++) s += q[qRow]![c]! * k[kRow]![c]!;
  return s * scale;
}

/** log Σ exp(score) over a query row's computed pairs, or -1e30 when it has none. Output `[heads · qLength]`. */
export function rowLogSumExpKernel(this: KernelThis, scores: Grid, tilePtr: Line, qLength: number, qTiles: number): number {
  const tileQ = this.constants.tileQ;
  const tileK = this.constants.tileK;
  const h = Math.floor(this.thread.x / qLength);
  const i = this.thread.x - h * qLength;
  const tile = Math.floor(i / tileQ);
  const r = i - tile * tileQ;
  const start = tilePtr[h * qTiles + tile]!;
  const end = tilePtr[h * qTiles + tile + 1]!;
  // Loops count from an integer 0: WGSL cannot increment a float loop variable.
  const count = end - start;
  let m = -1e30;
  for (let n = 0; n < count; n++) {
    for (let c = 0; c < tileK; c++) m = Math.max(m, scores[(start + n) * tileQ + r]![c]!);
  }
  if (m <= -1e29) return -1e30;
  // Distinct loop variable names: gpu.js's cpu mode declares loop variables once per kernel.
  let sum = 0;
  for (let n2 = 0; n2 < count; n2++) {
    for (let c2 = 0; c2 < tileK; c2++) {
      const s = scores[(start + n2) * tileQ + r]![c2]!;
      if (s > -1e29) sum += Math.exp(s - m);
    }
  }
  return m + Math.log(sum);
}

/** exp(score − lse of its row): normalised attention weights, 0 for pairs not computed. Same grid as the scores. */
export function probabilitiesKernel(this: KernelThis, scores: Grid, lse: Line, items: Grid, qLength: number): number {
  const s = scores[this.thread.y]![this.thread.x]!;
  if (s <= -1e29) return 0;
  const tileQ = this.constants.tileQ;
  const item = Math.floor(this.thread.y / tileQ);
  const r = this.thread.y - item * tileQ;
  const row = items[item]![0]! * qLength + items[item]![1]! * tileQ + r;
  return Math.exp(s - lse[row]!);
}

/** Σ weight · v over a query row's computed pairs, channel by channel. Output `[dim, heads · qLength]`. */
export function weightedValuesKernel(
  this: KernelThis,
  weights: Grid,
  v: Grid,
  items: Grid,
  keyRows: Grid,
  tilePtr: Line,
  qLength: number,
  qTiles: number,
  kvLength: number,
  groupSize: number,
): number {
  const tileQ = this.constants.tileQ;
  const tileK = this.constants.tileK;
  const h = Math.floor(this.thread.y / qLength);
  const i = this.thread.y - h * qLength;
  const tile = Math.floor(i / tileQ);
  const r = i - tile * tileQ;
  const start = tilePtr[h * qTiles + tile]!;
  const end = tilePtr[h * qTiles + tile + 1]!;
  const vBase = Math.floor(h / groupSize) * kvLength;
  const count = end - start;
  let o = 0;
  for (let n = 0; n < count; n++) {
    const p = start + n;
    const keyBase = items[p]![2]!;
    const gatherRow = items[p]![3]!;
    for (let t = 0; t < tileK; t++) {
      const w = weights[p * tileQ + r]![t]!;
      if (w > 0) {
        let key = keyBase + t;
        if (gatherRow >= 0) key = keyRows[gatherRow]![t]!;
        o += w * v[vBase + key]![this.thread.x]!;
      }
    }
  }
  return o;
}
