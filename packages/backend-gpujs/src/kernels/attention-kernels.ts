import type { Grid, KernelThis, Line } from './kernel-this.js';

// The four kernels of one attention call over a WorkPlan (see plan/work-plan.ts). Constants: tileQ, tileK, dim.
// -1e30 marks a pair that is not computed (MASKED in kernel-this.ts: kernel sources cannot import it).
//
// Scores and weights live in a packed grid of tiles: item p is a tileQ × tileK tile at tile row ⌊p / perRow⌋ and tile
// column p mod perRow, so the grid is `[perRow · tileK]` wide and `⌈items / perRow⌉ · tileQ` high. Packing keeps both
// sides within WebGL2's texture limit and WebGPU's 65,535 workgroups per dimension (see grid-layout.ts). Only planned
// items exist, so absent blocks cost nothing.

/**
 * Scaled q·k for every pair of every item, or -1e30 where the pair is outside the sequence, in the future of a
 * causal call, or cleared in the item's bitmap.
 */
export function blockScoresKernel(
  this: KernelThis,
  q: Grid,
  k: Grid,
  items: Grid,
  keyRows: Grid,
  bitmaps: Grid,
  itemCount: number,
  perRow: number,
  qLength: number,
  kvLength: number,
  qOffset: number,
  groupSize: number,
  causal: number,
  scale: number,
): number {
  const tileQ = this.constants.tileQ;
  const tileK = this.constants.tileK;
  const tileRow = Math.floor((this.thread.y + 0.5) / tileQ);
  const tileCol = Math.floor((this.thread.x + 0.5) / tileK);
  const item = tileRow * perRow + tileCol;
  if (item >= itemCount) return -1e30;
  const r = this.thread.y - tileRow * tileQ;
  const c = this.thread.x - tileCol * tileK;
  const h = items[item]![0]!;
  const i = items[item]![1]! * tileQ + r;
  if (i >= qLength) return -1e30;
  let key = items[item]![2]! + c;
  const gatherRow = items[item]![3]!;
  if (gatherRow >= 0) key = keyRows[gatherRow]![c]!;
  if (key < 0 || key >= kvLength) return -1e30;
  if (causal > 0 && key > qOffset + i) return -1e30;
  const bitmap = items[item]![4]!;
  if (bitmap >= 0) {
    if (bitmaps[bitmap * tileQ + r]![c]! < 0.5) return -1e30;
  }
  const qRow = h * qLength + i;
  const kRow = Math.floor((h + 0.5) / groupSize) * kvLength + key;
  let s = 0;
  for (let d = 0; d < this.constants.dim; d++) s += q[qRow]![d]! * k[kRow]![d]!;
  return s * scale;
}

/**
 * log Σ exp(score) over one item's tileK pairs of one tile row, or -1e30 when none is computed: the first half of the
 * row log-sum-exp, split by item so that long rows do not serialise on one GPU thread. Output: one value per
 * (item, tile row), packed like the scores with tiles one value wide: `[perRow, ⌈items / perRow⌉ · tileQ]`.
 */
export function itemLogSumExpKernel(this: KernelThis, scores: Grid, itemCount: number, perRow: number): number {
  const tileQ = this.constants.tileQ;
  const tileK = this.constants.tileK;
  const tileRow = Math.floor((this.thread.y + 0.5) / tileQ);
  if (tileRow * perRow + this.thread.x >= itemCount) return -1e30;
  const x0 = this.thread.x * tileK;
  let m = -1e30;
  for (let c = 0; c < tileK; c++) m = Math.max(m, scores[this.thread.y]![x0 + c]!);
  if (m <= -1e29) return -1e30;
  // Distinct loop variable names: gpu.js's cpu mode declares loop variables once per kernel.
  let sum = 0;
  for (let c2 = 0; c2 < tileK; c2++) {
    const s = scores[this.thread.y]![x0 + c2]!;
    if (s > -1e29) sum += Math.exp(s - m);
  }
  return m + Math.log(sum);
}

/**
 * log Σ exp(score) over a query row's computed pairs, combined from the per-item values, or -1e30 when the row keeps
 * nothing. Output `[heads · qLength]`.
 */
export function rowLogSumExpKernel(
  this: KernelThis,
  itemLse: Grid,
  tilePtr: Line,
  perRow: number,
  qLength: number,
  qTiles: number,
): number {
  const tileQ = this.constants.tileQ;
  const h = Math.floor((this.thread.x + 0.5) / qLength);
  const i = this.thread.x - h * qLength;
  const tile = Math.floor((i + 0.5) / tileQ);
  const r = i - tile * tileQ;
  const start = tilePtr[h * qTiles + tile]!;
  const count = tilePtr[h * qTiles + tile + 1]! - start;
  // Loops count from an integer 0: WGSL cannot increment a float loop variable.
  let m = -1e30;
  for (let n = 0; n < count; n++) {
    const p = start + n;
    const tileRow = Math.floor((p + 0.5) / perRow);
    m = Math.max(m, itemLse[tileRow * tileQ + r]![p - tileRow * perRow]!);
  }
  if (m <= -1e29) return -1e30;
  let sum = 0;
  for (let n2 = 0; n2 < count; n2++) {
    const p2 = start + n2;
    const tileRow2 = Math.floor((p2 + 0.5) / perRow);
    const part = itemLse[tileRow2 * tileQ + r]![p2 - tileRow2 * perRow]!;
    if (part > -1e29) sum += Math.exp(part - m);
  }
  return m + Math.log(sum);
}

/** exp(score − lse of its row): normalised attention weights, 0 for pairs not computed. Same grid as the scores. */
export function probabilitiesKernel(this: KernelThis, scores: Grid, lse: Line, items: Grid, perRow: number, qLength: number): number {
  const s = scores[this.thread.y]![this.thread.x]!;
  if (s <= -1e29) return 0;
  const tileQ = this.constants.tileQ;
  const tileRow = Math.floor((this.thread.y + 0.5) / tileQ);
  const item = tileRow * perRow + Math.floor((this.thread.x + 0.5) / this.constants.tileK);
  const r = this.thread.y - tileRow * tileQ;
  const row = items[item]![0]! * qLength + items[item]![1]! * tileQ + r;
  return Math.exp(s - lse[row]!);
}

/**
 * Σ weight · v over a query row's computed pairs, channel by channel, split into chunks of `chunkItems` items so a
 * long row (decode over a long cache, late rows of causal prefill) spreads over many GPU threads. Output: `chunks`
 * partial results per row, row-major `[chunk][heads · qLength][dim]`, packed `rowsPerLine` rows to a line:
 * `[rowsPerLine · dim, ⌈chunks · heads · qLength / rowsPerLine⌉]`. With one chunk this is the result itself.
 */
export function weightedValuesKernel(
  this: KernelThis,
  weights: Grid,
  v: Grid,
  items: Grid,
  keyRows: Grid,
  tilePtr: Line,
  perRow: number,
  rowsPerLine: number,
  chunkItems: number,
  chunks: number,
  rows: number,
  qLength: number,
  qTiles: number,
  kvLength: number,
  groupSize: number,
): number {
  const tileQ = this.constants.tileQ;
  const tileK = this.constants.tileK;
  const dim = this.constants.dim;
  const slot = Math.floor((this.thread.x + 0.5) / dim);
  const channel = this.thread.x - slot * dim;
  const line = this.thread.y * rowsPerLine + slot;
  if (line >= chunks * rows) return 0;
  const chunk = Math.floor((line + 0.5) / rows);
  const row = line - chunk * rows;
  const h = Math.floor((row + 0.5) / qLength);
  const i = row - h * qLength;
  const tile = Math.floor((i + 0.5) / tileQ);
  const r = i - tile * tileQ;
  const first = tilePtr[h * qTiles + tile]! + chunk * chunkItems;
  const count = Math.min(chunkItems, tilePtr[h * qTiles + tile + 1]! - first);
  const vBase = Math.floor((h + 0.5) / groupSize) * kvLength;
  let o = 0;
  for (let n = 0; n < count; n++) {
    const p = first + n;
    const tileRow = Math.floor((p + 0.5) / perRow);
    const y = tileRow * tileQ + r;
    const x0 = (p - tileRow * perRow) * tileK;
    const keyBase = items[p]![2]!;
    const gatherRow = items[p]![3]!;
    for (let t = 0; t < tileK; t++) {
      const w = weights[y]![x0 + t]!;
      if (w > 0) {
        let key = keyBase + t;
        if (gatherRow >= 0) key = keyRows[gatherRow]![t]!;
        o += w * v[vBase + key]![channel]!;
      }
    }
  }
  return o;
}

/**
 * Sums the chunk partials of weightedValuesKernel: the output `[heads · qLength][dim]`, packed `rowsPerLine` rows to
 * a line like its input.
 */
export function sumChunksKernel(
  this: KernelThis,
  partials: Grid,
  chunks: number,
  rows: number,
  rowsPerLine: number,
  partialRowsPerLine: number,
): number {
  const dim = this.constants.dim;
  const slot = Math.floor((this.thread.x + 0.5) / dim);
  const channel = this.thread.x - slot * dim;
  const row = this.thread.y * rowsPerLine + slot;
  if (row >= rows) return 0;
  let o = 0;
  for (let j = 0; j < chunks; j++) {
    const line = j * rows + row;
    const y = Math.floor((line + 0.5) / partialRowsPerLine);
    o += partials[y]![(line - y * partialRowsPerLine) * dim + channel]!;
  }
  return o;
}
