import {
  columnMaxArray,
  resolveScoresCall,
  type ScoreInput,
  type ScoresCall,
  type ScoresOptions,
  type ScoresResult,
  scoresKeyAt,
} from '@sparseland/core/kit';
import { poolRowsKernel } from '../kernels/estimator-kernels.js';
import { MAX_GRID_ROWS } from '../kernels/grid-layout.js';
import {
  gatherScoresKernel,
  groupColumnMaxKernel,
  rowAtLeastKernel,
  rowExtremesKernel,
  rowKthKernel,
  rowMomentsKernel,
  rowTopBitsKernel,
  scoresChunkKernel,
} from '../kernels/scores-kernels.js';
import { readFlat } from '../runtime/readback.js';
import { type GpuContext, tensorGrid } from './context.js';

/** Key slots per chunk: the width of the chunk's score grid (WebGL2's texture side on SwiftShader). */
const SLOTS_PER_CHUNK = 8192;
const MASKED_BELOW = -1e29;

/**
 * Backend.scores on the device. Chunks of rows and key slots are scored into a grid that stays on the device; the
 * reductions are second kernel passes over it (extremes, moments, threshold bits; top-k as a per-row bisection for
 * the k-th value, then the bits of the scores above and at it), so only reductions, bits and the chosen scores come
 * back. The host merges chunks (top-k candidates of each chunk, sums in chunk order). Key groups run one kernel over
 * their entries.
 */
export async function scores(ctx: GpuContext, input: ScoreInput, options: ScoresOptions = {}): Promise<ScoresResult> {
  const call = resolveScoresCall(input, options);
  const { shape, rows, keys } = call;
  const { heads, kvHeads, kvLength, dim } = shape;
  const R = rows.length;
  const constants = { dim };
  let q: unknown = tensorGrid(ctx, input.q);
  if (call.queryBlock > 1) {
    q = await ctx.cache.run(
      { key: `pool-q|d${dim}`, source: poolRowsKernel, constants, pipeline: true },
      [dim, heads * call.queryRows],
      q,
      shape.qLength,
      call.queryBlock,
      call.queryRows,
      0,
    );
  }
  const k = tensorGrid(ctx, input.k);
  // Per requested row: its (pooled) query row and its first and last visible key.
  const rowInfo = new Float32Array(3 * R);
  for (let r = 0; r < R; r++) rowInfo.set([rows[r] as number, call.keyLo[r] as number, call.keyHi[r] as number], 3 * r);

  if (keys.kind === 'groups') {
    const G = keys.groups.length - 1;
    const total = keys.indices.length;
    const columnMax = columnMaxArray(call).fill(Number.NEGATIVE_INFINITY);
    if (total === 0) return { kind: 'scores', heads, rows: R, keys: 0, columnMax };
    const entries = new Float32Array(4 * total);
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < G; t++) {
        for (let p = keys.offsets[h * G + t] as number; p < (keys.offsets[h * G + t + 1] as number); p++) {
          entries.set([keys.indices[p] as number, h, keys.groups[t] as number, keys.groups[t + 1] as number], 4 * p);
        }
      }
    }
    const out = await ctx.cache.run(
      { key: `scores-group-max|d${dim}`, source: groupColumnMaxKernel, constants, pipeline: false },
      [total],
      q,
      k,
      ctx.grid(entries, 4, total),
      ctx.grid(rowInfo, 3, Math.max(1, R)),
      call.queryRows,
      kvLength,
      heads / kvHeads,
      call.scale,
    );
    const data = await readFlat(out, total);
    for (let p = 0; p < total; p++) if ((data[p] as number) > MASKED_BELOW) columnMax[p] = data[p] as number;
    return { kind: 'scores', heads, rows: R, keys: 0, columnMax };
  }

  const acc = new Accumulator(call, heads);
  const slots = call.keyCount;
  const rowChunk = Math.max(1, Math.floor(MAX_GRID_ROWS / heads));
  const reductions = call.max || call.min || call.moments || call.topK > 0 || call.atLeast !== undefined;
  for (let r0 = 0; r0 < R && slots > 0; r0 += rowChunk) {
    const rc = Math.min(rowChunk, R - r0);
    for (let s0 = 0; s0 < slots; s0 += SLOTS_PER_CHUNK) {
      const n = Math.min(SLOTS_PER_CHUNK, slots - s0);
      // A pipelined output keeps the width it was first made with (gpu.js webasm): one kernel per power-of-two
      // width, the slots past n padded with key -1 (never visible).
      const width = reductions ? Math.max(64, 2 ** Math.ceil(Math.log2(n))) : n;
      const slotKeys = Float32Array.from({ length: width }, (_, j) => (j < n ? scoresKeyAt(keys, s0 + j) : -1));
      const grid = await ctx.cache.run(
        {
          key: reductions ? `scores-chunk-pipelined-w${width}|d${dim}` : `scores-chunk|d${dim}`,
          source: scoresChunkKernel,
          constants,
          pipeline: reductions,
        },
        [width, heads * rc],
        q,
        k,
        ctx.grid(rowInfo.slice(3 * r0, 3 * (r0 + rc)), 3, rc),
        slotKeys,
        rc,
        call.queryRows,
        kvLength,
        heads / kvHeads,
        call.scale,
      );
      const chunk = { r0, rc, s0, n, width, grid, slotKeys };
      if (call.output) acc.addScores(chunk, await readFlat(grid, heads * rc * width));
      if (call.max || call.min) await acc.addExtremes(ctx, chunk);
      if (call.moments) await acc.addMoments(ctx, chunk);
      if (call.atLeast) await acc.addAtLeast(ctx, chunk);
      if (call.topK > 0) await acc.addTopK(ctx, chunk);
    }
  }
  return acc.result();
}

interface Chunk {
  readonly r0: number;
  readonly rc: number;
  readonly s0: number;
  readonly n: number;
  /** Row length of the grid (≥ n). */
  readonly width: number;
  readonly grid: unknown;
  readonly slotKeys: Float32Array;
}

/** The smallest float32 ≥ t (float32 scores compare with it as with t in float64); ±1e38 stand for ±Infinity and NaN. */
function ceilF32(t: number): number {
  if (Number.isNaN(t) || t === Number.POSITIVE_INFINITY) return 1e38;
  if (t === Number.NEGATIVE_INFINITY) return -1e38;
  const x = Math.fround(t);
  if (x >= t) return x;
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  u[0] = x >= 0 ? (u[0] as number) + 1 : (u[0] as number) - 1;
  return f[0] as number;
}

/** Results of one call, merged chunk by chunk (rows of chunk r0.. and slots s0..). */
class Accumulator {
  private readonly R: number;
  private readonly scoresOut: Float32Array | undefined;
  private readonly maxV: Float32Array;
  private readonly maxI: Int32Array;
  private readonly minV: Float32Array;
  private readonly minI: Int32Array;
  private readonly count: Int32Array;
  private readonly sum: Float64Array;
  private readonly sumSquares: Float64Array;
  private readonly bits: Int32Array | undefined;
  /** Per row: top-k candidates of the chunks so far. */
  private readonly candidates: { v: number; key: number }[][];

  constructor(
    private readonly call: ScoresCall,
    private readonly heads: number,
  ) {
    const n = heads * call.rows.length;
    this.R = call.rows.length;
    this.scoresOut = call.output ? new Float32Array(n * call.keyCount).fill(Number.NEGATIVE_INFINITY) : undefined;
    this.maxV = new Float32Array(n).fill(Number.NEGATIVE_INFINITY);
    this.maxI = new Int32Array(n).fill(-1);
    this.minV = new Float32Array(n).fill(Number.POSITIVE_INFINITY);
    this.minI = new Int32Array(n).fill(-1);
    this.count = new Int32Array(n);
    this.sum = new Float64Array(n);
    this.sumSquares = new Float64Array(n);
    this.bits = call.atLeast ? new Int32Array(n * call.atLeastWords) : undefined;
    this.candidates = call.topK > 0 ? Array.from({ length: n }, () => []) : [];
  }

  /** Row of the call (h · R + r) of row y of a chunk grid. */
  private rowOf(c: Chunk, y: number): number {
    const h = Math.floor(y / c.rc);
    return h * this.R + c.r0 + (y - h * c.rc);
  }

  addScores(c: Chunk, data: Float32Array): void {
    const out = this.scoresOut as Float32Array;
    const keys = this.call.keyCount;
    for (let y = 0; y < this.heads * c.rc; y++) {
      const at = this.rowOf(c, y) * keys + c.s0;
      for (let j = 0; j < c.n; j++) {
        const v = data[y * c.width + j] as number;
        out[at + j] = v > MASKED_BELOW ? v : Number.NEGATIVE_INFINITY;
      }
    }
  }

  async addExtremes(ctx: GpuContext, c: Chunk): Promise<void> {
    const rowsC = this.heads * c.rc;
    const out = await ctx.cache.run(
      { key: 'scores-extremes', source: rowExtremesKernel, constants: { dim: 1 }, pipeline: false },
      [4, rowsC],
      c.grid,
      c.n,
    );
    const data = await readFlat(out, 4 * rowsC);
    for (let y = 0; y < rowsC; y++) {
      const row = this.rowOf(c, y);
      const maxAt = data[4 * y + 1] as number;
      // Chunks come in slot order: a later chunk replaces only with a strictly better score.
      if (maxAt >= 0 && (data[4 * y] as number) > (this.maxV[row] as number)) {
        this.maxV[row] = data[4 * y] as number;
        this.maxI[row] = c.slotKeys[maxAt] as number;
      }
      const minAt = data[4 * y + 3] as number;
      if (minAt >= 0 && (data[4 * y + 2] as number) < (this.minV[row] as number)) {
        this.minV[row] = data[4 * y + 2] as number;
        this.minI[row] = c.slotKeys[minAt] as number;
      }
    }
  }

  async addMoments(ctx: GpuContext, c: Chunk): Promise<void> {
    const rowsC = this.heads * c.rc;
    const out = await ctx.cache.run(
      { key: 'scores-moments', source: rowMomentsKernel, constants: { dim: 1 }, pipeline: false },
      [3, rowsC],
      c.grid,
      c.n,
    );
    const data = await readFlat(out, 3 * rowsC);
    for (let y = 0; y < rowsC; y++) {
      const row = this.rowOf(c, y);
      this.count[row] = (this.count[row] as number) + (data[3 * y] as number);
      this.sum[row] = (this.sum[row] as number) + (data[3 * y + 1] as number);
      this.sumSquares[row] = (this.sumSquares[row] as number) + (data[3 * y + 2] as number);
    }
  }

  async addAtLeast(ctx: GpuContext, c: Chunk): Promise<void> {
    const rowsC = this.heads * c.rc;
    const thresholds = new Float32Array(rowsC);
    for (let y = 0; y < rowsC; y++) thresholds[y] = ceilF32((this.call.atLeast as Float64Array)[this.rowOf(c, y)] as number);
    const cells = Math.ceil(c.n / 16);
    const out = await ctx.cache.run(
      { key: 'scores-at-least', source: rowAtLeastKernel, constants: { dim: 1 }, pipeline: false },
      [cells, rowsC],
      c.grid,
      thresholds,
      c.n,
    );
    const data = await readFlat(out, cells * rowsC);
    const bits = this.bits as Int32Array;
    const words = this.call.atLeastWords;
    for (let y = 0; y < rowsC; y++) {
      const base = this.rowOf(c, y) * words;
      for (let x = 0; x < cells; x++) {
        const cell = data[y * cells + x] as number;
        if (cell === 0) continue;
        // Chunks start at multiples of 8,192 slots, so 16-bit cells never straddle a word.
        const slot = c.s0 + 16 * x;
        bits[base + (slot >> 5)] = (bits[base + (slot >> 5)] as number) | (cell << (slot & 31));
      }
    }
  }

  async addTopK(ctx: GpuContext, c: Chunk): Promise<void> {
    const rowsC = this.heads * c.rc;
    const k = Math.min(this.call.topK, c.n);
    const kthOut = await ctx.cache.run(
      { key: 'scores-kth', source: rowKthKernel, constants: { dim: 1 }, pipeline: false },
      [rowsC],
      c.grid,
      c.n,
      k,
    );
    const kth = (await readFlat(kthOut, rowsC)).slice();
    const cells = Math.ceil(c.n / 16);
    const bitsOut = await ctx.cache.run(
      { key: 'scores-top-bits', source: rowTopBitsKernel, constants: { dim: 1 }, pipeline: false },
      [2 * cells, rowsC],
      c.grid,
      kth,
      c.n,
      cells,
    );
    const bits = await readFlat(bitsOut, 2 * cells * rowsC);
    // Per row: every slot above the k-th value, then slots at it in slot order (lower key first) until k.
    const chosen = new Float32Array(rowsC * k).fill(-1);
    let fallback: Float32Array | undefined;
    for (let y = 0; y < rowsC; y++) {
      const above: number[] = [];
      const at: number[] = [];
      for (let x = 0; x < 2 * cells; x++) {
        let cell = bits[y * 2 * cells + x] as number;
        for (let b = 0; cell > 0; b++, cell >>= 1) {
          if (cell & 1) (x < cells ? above : at).push(16 * (x % cells) + b);
        }
      }
      let list: number[];
      if (above.length <= k && above.length + at.length >= k) list = [...above, ...at.slice(0, k - above.length)];
      else {
        // The bisection did not converge (a value range too wide for 300 halvings): select from the row's scores.
        fallback ??= await readFlat(c.grid, rowsC * c.width);
        const row = fallback.subarray(y * c.width, y * c.width + c.n);
        list = Array.from(row, (v, j) => ({ v, j }))
          .filter((e) => e.v > MASKED_BELOW)
          .sort((a, b) => b.v - a.v || a.j - b.j)
          .slice(0, k)
          .map((e) => e.j);
      }
      chosen.set(list, y * k);
    }
    const values = await readFlat(
      await ctx.cache.run(
        { key: 'scores-gather', source: gatherScoresKernel, constants: { dim: 1 }, pipeline: false },
        [k, rowsC],
        c.grid,
        ctx.grid(chosen, k, rowsC),
      ),
      k * rowsC,
    );
    for (let y = 0; y < rowsC; y++) {
      const list = this.candidates[this.rowOf(c, y)] as { v: number; key: number }[];
      for (let t = 0; t < k; t++) {
        const slot = chosen[y * k + t] as number;
        if (slot >= 0) list.push({ v: values[y * k + t] as number, key: c.slotKeys[slot] as number });
      }
    }
  }

  result(): ScoresResult {
    const { call, heads, R } = this;
    const n = heads * R;
    const out: { -readonly [K in keyof ScoresResult]: ScoresResult[K] } = { kind: 'scores', heads, rows: R, keys: call.keyCount };
    if (this.scoresOut) out.scores = this.scoresOut;
    if (call.max) out.max = { values: this.maxV, indices: this.maxI };
    if (call.min) out.min = { values: this.minV, indices: this.minI };
    if (call.moments) out.moments = { count: this.count, sum: this.sum, sumSquares: this.sumSquares };
    if (this.bits) out.atLeast = { words: call.atLeastWords, bits: this.bits };
    if (call.topK > 0) {
      const k = call.topK;
      const values = new Float32Array(n * k).fill(Number.NEGATIVE_INFINITY);
      const indices = new Int32Array(n * k).fill(-1);
      for (let row = 0; row < n; row++) {
        const best = (this.candidates[row] as { v: number; key: number }[]).sort((a, b) => b.v - a.v || a.key - b.key).slice(0, k);
        best.forEach((c, t) => {
          values[row * k + t] = c.v;
          indices[row * k + t] = c.key;
        });
      }
      out.topK = { k, values, indices };
    }
    return out;
  }
}
