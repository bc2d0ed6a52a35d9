import type { AttendResult, AttentionShape, HeadTensor, ScoreMod } from '@sparseland/core';
import { createHeadTensor } from '@sparseland/core';
import {
  blockScoresKernel,
  itemLogSumExpKernel,
  probabilitiesKernel,
  rowLogSumExpKernel,
  sumChunksKernel,
  weightedValuesKernel,
} from '../kernels/attention-kernels.js';
import { blocksPerRow, tileGridIndex, tileGridSize } from '../kernels/grid-layout.js';
import { MASKED, MASKED_BELOW } from '../kernels/kernel-this.js';
import { ITEM_FIELDS, type WorkPlan } from '../plan/work-plan.js';
import type { KernelSpec } from '../runtime/kernel-cache.js';
import { maskedToInfinity, readFlat } from '../runtime/readback.js';
import { type GpuContext, tensorGrid } from './context.js';

export interface WeightsRun {
  readonly q: HeadTensor;
  readonly k: HeadTensor;
  readonly shape: AttentionShape;
  readonly causal: boolean;
  readonly scale: number;
  readonly scoreMod?: ScoreMod | undefined;
}

export interface PlanRun extends WeightsRun {
  readonly v: HeadTensor;
}

/** The normalised attention weights of a plan's pairs, on the device, with where they sit. */
export interface PlanWeights {
  /** Packed tile grid (see attention-kernels.ts) of weights: a device texture / buffer, or host arrays. */
  readonly weights: unknown;
  /** lse per query row `[heads · qLength]`, on the device. */
  readonly lse: unknown;
  readonly perRow: number;
  readonly grid: [number, number];
}

/** Compile-time constants and cache-key suffix of a plan's kernels. */
function planClass(plan: WorkPlan, dim: number): { constants: Record<string, number>; cls: string } {
  return { constants: { tileQ: plan.tileQ, tileK: plan.tileK, dim }, cls: `${plan.tileQ}x${plan.tileK}|d${dim}` };
}

/**
 * Scores of the planned pairs → log-sum-exp per (item, row) → per row → normalised weights, all on the device. With
 * a scoreMod (a JS function no kernel can call) the scores make one round trip to the host. `plan.items` must be > 0.
 */
export async function computeWeights(ctx: GpuContext, plan: WorkPlan, run: WeightsRun): Promise<PlanWeights> {
  const { shape } = run;
  const rows = shape.heads * shape.qLength;
  const { tileQ, tileK } = plan;
  const { constants, cls } = planClass(plan, shape.dim);
  const perRow = blocksPerRow(plan.items, tileQ);
  const scoreGrid = tileGridSize(plan.items, tileQ, tileK, perRow);
  const scoreCells = scoreGrid[0] * scoreGrid[1];
  const items = ctx.grid(plan.itemInfo, ITEM_FIELDS, plan.items);
  const keyRows = ctx.grid(plan.keyRows, tileK, plan.gatherRows);

  let scores = await ctx.cache.run(
    spec('scores', cls, blockScoresKernel, constants, true),
    scoreGrid,
    tensorGrid(ctx, run.q),
    tensorGrid(ctx, run.k),
    items,
    keyRows,
    ctx.grid(plan.bitmaps, tileK, plan.bitmapTiles * tileQ),
    plan.items,
    perRow,
    shape.qLength,
    shape.kvLength,
    shape.qOffset,
    shape.heads / shape.kvHeads,
    run.causal ? 1 : 0,
    run.scale,
  );
  // Kernels typed for a device texture and for a host array are kept apart: gpu.js specialises on argument kinds.
  let variant = '';
  if (run.scoreMod) {
    const host = await readFlat(scores, scoreCells);
    applyScoreMod(host, plan, perRow, shape, run.scoreMod);
    scores = ctx.grid(host, scoreGrid[0], scoreGrid[1]);
    variant = '|host-scores';
  }
  const itemLse = await ctx.cache.run(
    spec(`item-lse${variant}`, cls, itemLogSumExpKernel, constants, true),
    [perRow, scoreGrid[1]],
    scores,
    plan.items,
    perRow,
  );
  const lse = await ctx.cache.run(
    spec('lse', cls, rowLogSumExpKernel, constants, true),
    [rows],
    itemLse,
    plan.tilePtr,
    perRow,
    shape.qLength,
    plan.qTiles,
  );
  const weights = await ctx.cache.run(
    spec(`weights${variant}`, cls, probabilitiesKernel, constants, true),
    scoreGrid,
    scores,
    lse,
    items,
    perRow,
    shape.qLength,
  );
  return { weights, lse, perRow, grid: scoreGrid };
}

/**
 * Attention over a work plan: computeWeights, then Σ weight·V (split into chunks of items on GPUs, then summed).
 * Only the output and the lse are read back.
 */
export async function runPlan(ctx: GpuContext, plan: WorkPlan, run: PlanRun): Promise<AttendResult> {
  const { shape } = run;
  const rows = shape.heads * shape.qLength;
  if (plan.items === 0) {
    return { output: createHeadTensor(shape.heads, shape.qLength, shape.dim), lse: new Float32Array(rows).fill(Number.NEGATIVE_INFINITY) };
  }
  const { weights, lse, perRow } = await computeWeights(ctx, plan, run);
  const { constants, cls } = planClass(plan, shape.dim);
  const rowsPerLine = blocksPerRow(rows, 1);
  const items = ctx.grid(plan.itemInfo, ITEM_FIELDS, plan.items);
  const keyRows = ctx.grid(plan.keyRows, plan.tileK, plan.gatherRows);
  const groupSize = shape.heads / shape.kvHeads;
  const { chunks, chunkItems } = valueChunks(plan, rows * shape.dim, ctx.valueThreads);
  const partialRowsPerLine = blocksPerRow(chunks * rows, 1);
  let values = await ctx.cache.run(
    spec(chunks > 1 ? 'values-partial' : 'values', cls, weightedValuesKernel, constants, chunks > 1),
    [partialRowsPerLine * shape.dim, Math.ceil((chunks * rows) / partialRowsPerLine)],
    weights,
    tensorGrid(ctx, run.v),
    items,
    keyRows,
    plan.tilePtr,
    perRow,
    partialRowsPerLine,
    chunkItems,
    chunks,
    rows,
    shape.qLength,
    plan.qTiles,
    shape.kvLength,
    groupSize,
  );
  if (chunks > 1) {
    values = await ctx.cache.run(
      spec('sum-chunks', cls, sumChunksKernel, constants, false),
      [rowsPerLine * shape.dim, Math.ceil(rows / rowsPerLine)],
      values,
      chunks,
      rows,
      rowsPerLine,
      partialRowsPerLine,
    );
  }
  const output = createHeadTensor(shape.heads, shape.qLength, shape.dim, await readFlat(values, rows * shape.dim));
  return { output, lse: maskedToInfinity(await readFlat(lse, rows)) };
}

/**
 * How to split the P·V work: rows with many items are cut into chunks (as flash-decoding does) until about
 * `targetThreads` threads run, so that a one-token decode over a long cache does not serialise on `dim` threads.
 * Partials cost chunks · rows · dim floats, capped at 16 M.
 */
export function valueChunks(plan: WorkPlan, rowCells: number, targetThreads: number): { chunks: number; chunkItems: number } {
  let maxItems = 0;
  for (let t = 0; t + 1 < plan.tilePtr.length; t++)
    maxItems = Math.max(maxItems, (plan.tilePtr[t + 1] as number) - (plan.tilePtr[t] as number));
  const wanted = Math.min(maxItems, Math.ceil(targetThreads / rowCells), Math.floor((1 << 24) / rowCells));
  if (wanted <= 1) return { chunks: 1, chunkItems: Math.max(1, maxItems) };
  const chunkItems = Math.ceil(maxItems / wanted);
  return { chunks: Math.ceil(maxItems / chunkItems), chunkItems };
}

function spec(name: string, cls: string, source: KernelSpec['source'], constants: Record<string, number>, pipeline: boolean): KernelSpec {
  return { key: `${name}|${cls}`, source, constants, pipeline };
}

/** Applies a scoreMod to the computed scores of a plan, on the host, in place. */
function applyScoreMod(scores: Float32Array, plan: WorkPlan, perRow: number, shape: AttentionShape, scoreMod: ScoreMod): void {
  const { tileQ, tileK } = plan;
  for (let p = 0; p < plan.items; p++) {
    const h = plan.itemInfo[p * ITEM_FIELDS] as number;
    const tile = plan.itemInfo[p * ITEM_FIELDS + 1] as number;
    const keyBase = plan.itemInfo[p * ITEM_FIELDS + 2] as number;
    const gatherRow = plan.itemInfo[p * ITEM_FIELDS + 3] as number;
    for (let r = 0; r < tileQ; r++) {
      const i = tile * tileQ + r;
      if (i >= shape.qLength) break;
      const base = tileGridIndex(p, r, 0, tileQ, tileK, perRow);
      for (let c = 0; c < tileK; c++) {
        const s = scores[base + c] as number;
        if (s <= MASKED_BELOW) continue;
        const key = gatherRow >= 0 ? (plan.keyRows[gatherRow * tileK + c] as number) : keyBase + c;
        const modded = scoreMod(s, h, shape.qOffset + i, key);
        scores[base + c] = modded > MASKED_BELOW ? modded : MASKED;
      }
    }
  }
}
