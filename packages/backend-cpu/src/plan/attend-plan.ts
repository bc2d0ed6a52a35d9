import type { AttentionShape, MaskMod, SparseMask } from '@sparseland/core';
import { IntList, lowerBound } from '@sparseland/core/kit';
import { ATTEND_TASK_INTS, SEG_CAUSAL, SEG_COLUMNS, SEG_INTS, SEG_PARTIAL, SEG_RANGE } from '../driver/job-layout.js';
import { TILE } from '../scratch-layout.js';

/**
 * The work of one attention call, before it is written to shared memory. Tasks are (query head, ≤ 64 query rows);
 * segments say which keys a task reads: contiguous ranges (dense parts and full blocks, merged when adjacent),
 * partial pieces (≤ 64 keys inside one chunk) with a bitmap evaluated here from the MaskMod, and gathered columns.
 * Segment `a` of COLUMNS and `aux` of PARTIAL are indices into `columns` / `bitmaps` until the writer relocates them.
 * A task's rowStart is its first row in head-major order (h·qLength + i).
 */
export interface AttendPlan {
  readonly tasks: Int32Array;
  readonly segments: Int32Array;
  readonly bitmaps: Int32Array;
  readonly columns: Int32Array;
  /** Multiply-adds of Q·Kᵀ the tasks do (for the inline-or-parallel decision). */
  readonly work: number;
}

interface RowRange {
  readonly r0: number;
  readonly r1: number;
}

/** Query rows cut so that a task never crosses a block row, a column row or 64 rows. */
function rowRanges(qLength: number, mask: SparseMask | undefined): RowRange[] {
  const out: RowRange[] = [];
  const bq = mask?.blocks?.blockQ ?? TILE;
  const cq = mask?.columns?.blockQ ?? TILE;
  for (let r0 = 0; r0 < qLength; ) {
    const r1 = Math.min(qLength, r0 + TILE, (Math.floor(r0 / bq) + 1) * bq, (Math.floor(r0 / cq) + 1) * cq);
    out.push({ r0, r1 });
    r0 = r1;
  }
  return out;
}

export function planAttend(shape: AttentionShape, mask: SparseMask | undefined, causal: boolean): AttendPlan {
  const { heads, kvHeads, qLength, kvLength, qOffset } = shape;
  const ranges = rowRanges(qLength, mask);
  const tasks = new IntList(heads * ranges.length * ATTEND_TASK_INTS);
  const segments = new IntList(heads * ranges.length * SEG_INTS * 2);
  const bitmaps = new IntList(64);
  const columns = new IntList(64);
  const costs: number[] = [];
  const blocks = mask?.blocks;
  const cols = mask?.columns;
  const shared = (!blocks || (blocks.heads === 1 && blocks.partial.cols.length === 0)) && (!cols || cols.heads === 1);
  const blockState = blocks ? new Uint8Array(blocks.kBlocks) : undefined;
  const firstSegOfRange: number[] = [];
  const segCountOfRange: number[] = [];
  const keysOfRange: number[] = [];
  let work = 0;

  const pushSeg = (kind: number, a: number, n: number, aux: number, needsCausal: boolean): void => {
    segments.push4(kind | (needsCausal ? SEG_CAUSAL : 0), a, n, aux);
  };

  for (let h = 0; h < heads; h++) {
    const g = Math.floor(h / (heads / kvHeads));
    ranges.forEach((range, ri) => {
      const { r0, r1 } = range;
      const rows = r1 - r0;
      let segStart: number;
      let segCount: number;
      let keys: number;
      if (shared && h > 0) {
        segStart = firstSegOfRange[ri] as number;
        segCount = segCountOfRange[ri] as number;
        keys = keysOfRange[ri] as number;
      } else {
        segStart = segments.length / SEG_INTS;
        keys = 0;
        const firstPos = qOffset + r0;
        const lastPos = qOffset + r1 - 1;
        // Keys at or after keyLimit are invisible to every row; keys before noCheck are visible to every row.
        const keyLimit = causal ? Math.max(0, Math.min(kvLength, lastPos + 1)) : kvLength;
        const noCheck = causal ? Math.max(0, Math.min(kvLength, firstPos + 1)) : kvLength;
        if (!mask) {
          if (keyLimit > 0) pushSeg(SEG_RANGE, 0, keyLimit, 0, keyLimit > noCheck);
          keys = keyLimit;
        } else {
          const colList = cols ? cols.columns(h, Math.floor(r0 / cols.blockQ)) : undefined;
          if (blocks && blockState) {
            const qb = Math.floor(r0 / blocks.blockQ);
            const full = blocks.fullBlocks(h, qb);
            const partial = blocks.partialBlocks(h, qb);
            const bk = blocks.blockK;
            // Full blocks, merged into ranges when adjacent.
            let runStart = -1;
            let runEnd = -1;
            const flush = (): void => {
              if (runStart >= 0 && runEnd > runStart) {
                pushSeg(SEG_RANGE, runStart, runEnd - runStart, 0, runEnd > noCheck);
                keys += runEnd - runStart;
              }
              runStart = -1;
            };
            for (let p = 0; p < full.length; p++) {
              const kb = full[p] as number;
              blockState[kb] = 2;
              const k0 = kb * bk;
              if (k0 >= keyLimit) continue;
              const k1 = Math.min(kvLength, k0 + bk, keyLimit);
              if (runStart >= 0 && runEnd === k0) runEnd = k1;
              else {
                flush();
                runStart = k0;
                runEnd = k1;
              }
            }
            flush();
            // Partial blocks: one bitmap per ≤ 64-key piece inside a chunk, MaskMod ∪ columns.
            const maskMod = blocks.maskMod as MaskMod;
            for (let p = 0; p < partial.length; p++) {
              const kb = partial[p] as number;
              blockState[kb] = 1;
              const k0 = kb * bk;
              const k1 = Math.min(kvLength, k0 + bk, keyLimit);
              for (let a = k0; a < k1; ) {
                const b = Math.min(k1, (Math.floor(a / TILE) + 1) * TILE);
                const at = bitmaps.length;
                let any = 0;
                for (let r = r0; r < r1; r++) {
                  let lo = 0;
                  let hi = 0;
                  const qPos = qOffset + r;
                  for (let k = a; k < b; k++) {
                    if (maskMod(h, qPos, k)) {
                      const bit = k - a;
                      if (bit < 32) lo |= 1 << bit;
                      else hi |= 1 << (bit - 32);
                    }
                  }
                  bitmaps.push(lo);
                  bitmaps.push(hi);
                  any |= lo | hi;
                }
                if (colList) {
                  // A column inside a partial block is kept for every row of the task: set its bit.
                  for (let c = lowerBound(colList, a); c < colList.length && (colList[c] as number) < b; c++) {
                    const bit = (colList[c] as number) - a;
                    for (let r = 0; r < rows; r++) {
                      const w = at + 2 * r + (bit < 32 ? 0 : 1);
                      bitmaps.data[w] = (bitmaps.data[w] as number) | (1 << (bit & 31));
                    }
                    any = 1;
                  }
                }
                if (any === 0) bitmaps.length = at;
                else {
                  pushSeg(SEG_PARTIAL, a, b - a, at, b > noCheck);
                  keys += b - a;
                }
                a = b;
              }
            }
          }
          if (colList) {
            const start = columns.length;
            for (let c = 0; c < colList.length; c++) {
              const k = colList[c] as number;
              if (k >= keyLimit) break;
              if (blocks && blockState && blockState[Math.floor(k / blocks.blockK)] !== 0) continue;
              columns.push(k);
            }
            const n = columns.length - start;
            if (n > 0) {
              pushSeg(SEG_COLUMNS, start, n, 0, (columns.data[columns.length - 1] as number) >= noCheck);
              keys += n;
            }
          }
          if (blocks && blockState) {
            const qb = Math.floor(r0 / blocks.blockQ);
            for (const kb of blocks.fullBlocks(h, qb)) blockState[kb] = 0;
            for (const kb of blocks.partialBlocks(h, qb)) blockState[kb] = 0;
          }
        }
        segCount = segments.length / SEG_INTS - segStart;
        if (h === 0) {
          firstSegOfRange[ri] = segStart;
          segCountOfRange[ri] = segCount;
          keysOfRange[ri] = keys;
        }
      }
      tasks.push4(h * qLength + r0, rows, segStart, segCount);
      tasks.push(g);
      tasks.push(h);
      costs.push(rows * keys + 64);
      work += rows * keys * shape.dim;
    });
  }
  return {
    tasks: sortByCost(tasks.view(), costs, ATTEND_TASK_INTS),
    segments: segments.view(),
    bitmaps: bitmaps.view(),
    columns: columns.view(),
    work,
  };
}

/** Reorders task records by decreasing cost: the shared counter then hands out the long tasks first. */
export function sortByCost(tasks: Int32Array, costs: readonly number[], ints: number): Int32Array {
  // Already in order (a decode step's few equal tasks): nothing to move.
  let sorted = true;
  for (let i = 1; i < costs.length && sorted; i++) sorted = (costs[i - 1] as number) >= (costs[i] as number);
  if (sorted) return tasks;
  const order = costs.map((_, i) => i).sort((a, b) => (costs[b] as number) - (costs[a] as number));
  const out = new Int32Array(tasks.length);
  order.forEach((from, to) => {
    out.set(tasks.subarray(from * ints, (from + 1) * ints), to * ints);
  });
  return out;
}
