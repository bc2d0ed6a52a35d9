// The vertical-slash estimation the benchmark times: MInference's last-64-queries probe on the backend, then the
// columns and block diagonals that make a mask of the fixed mask's density. Pure selection code, tested in
// test/vertical-slash-estimate.test.ts.
import type { CpuBackend } from '@sparseland/backend-cpu';
import type { AttentionInput, SparseMask } from '@sparseland/core';
import { BLOCK, verticalSlashMask } from './workloads.js';

export interface EstimatedMask {
  readonly mask: SparseMask;
  /** Block diagonals kept. */
  readonly diagonals: number;
}

/**
 * Vertical-slash estimation as MInference does it, on the backend's own op: the attention probabilities of the last
 * 64 queries summed per key column and per diagonal where the backend computes them (lastQueriesSums), then over
 * heads, the diagonals grouped by block distance ⌊δ / 64⌋. The `verticals` best columns, the sink block, and then
 * block diagonals in the order of their sums, as many as bring the mask's causal pairs nearest to `density`, make the
 * mask. Random inputs have no structure to find, so the chosen diagonals lie at random distances, and a far one
 * covers few query blocks: a fixed count of them kept about 4 % where the fixed mask keeps 5.1 %. Filling to the
 * fixed mask's density keeps the two cases comparable; this times the work, not the quality.
 */
export async function estimateVerticalSlash(b: CpuBackend, x: AttentionInput, verticals: number, density: number): Promise<EstimatedMask> {
  const sums = await b.lastQueriesSums(x, { count: BLOCK });
  const { heads, kvLength: n, slashLength, slashOrigin } = sums;
  const columns = new Float64Array(n);
  const slash = new Float64Array(Math.ceil(n / BLOCK));
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < n; j++) columns[j] = (columns[j] as number) + (sums.vertical[h * n + j] as number);
    const at = h * slashLength + slashOrigin;
    for (let d = 0; d < slashLength - slashOrigin; d++) slash[d >> 6] = (slash[d >> 6] as number) + (sums.slash[at + d] as number);
  }
  const chosen = topIndices(columns, verticals);
  const byScore = Array.from(slash.keys()).sort((p, q) => (slash[q] as number) - (slash[p] as number) || p - q);
  const diagonals = fillDiagonals(n, chosen, byScore, density * ((n * (n + 1)) / 2)).diagonals;
  return { mask: verticalSlashMask(n, chosen, diagonals), diagonals: diagonals.length };
}

/**
 * Indices (ascending) of the k largest scores, ties to the lower index: the k-th largest from a numeric sort of a
 * copy, then one pass in index order. (@sparseland/estimators has a quickselect for this, but it depends on this
 * package; the native sort of the 32K column sums costs 3–5 ms of the timed estimation.)
 */
export function topIndices(scores: Float64Array, k: number): Int32Array {
  const count = Math.min(Math.max(0, k), scores.length);
  if (count === 0) return new Int32Array(0);
  const kth = scores.slice().sort()[scores.length - count] as number;
  let above = 0;
  for (let i = 0; i < scores.length; i++) if ((scores[i] as number) > kth) above++;
  let ties = count - above;
  const out = new Int32Array(count);
  let m = 0;
  for (let i = 0; i < scores.length && m < count; i++) {
    const s = scores[i] as number;
    if (s > kth || (s === kth && ties-- > 0)) out[m++] = i;
  }
  return out;
}

/**
 * Block diagonals taken in `order` while they bring the causal pairs of one head of the vertical-slash mask
 * (verticalSlashMask: sink block, the `columns`, the diagonals) nearest to `budget`; `kept` is the mask's exact
 * count. A key inside a kept block counts once: a column's pairs in a query block are replaced by the block's when
 * one of its diagonals is added. Each diagonal adds up to 64·n pairs (0.4 % of the causal pairs at 32K), so the
 * mask lands within half a diagonal of the budget, on either side.
 */
export function fillDiagonals(
  n: number,
  columns: Int32Array,
  order: readonly number[],
  budget: number,
): { diagonals: number[]; kept: number } {
  const blocks = Math.ceil(n / BLOCK);
  const rowsOf = (qb: number): number => Math.min(BLOCK, n - qb * BLOCK);
  // Per key block: its columns, and their pairs with the rows of their own query block (rows at or after them).
  const columnsIn = new Int32Array(blocks);
  const ownBlockPairs = new Float64Array(blocks);
  let kept = 0;
  for (let qb = 0; qb < blocks; qb++) kept += qb === 0 ? (rowsOf(0) * (rowsOf(0) + 1)) / 2 : rowsOf(qb) * BLOCK;
  for (const k of new Set(columns)) {
    const kb = Math.floor(k / BLOCK);
    if (kb === 0) continue; // inside the sink block of every row
    const own = kb * BLOCK + rowsOf(kb) - k;
    columnsIn[kb] = (columnsIn[kb] as number) + 1;
    ownBlockPairs[kb] = (ownBlockPairs[kb] as number) + own;
    kept += own;
    for (let qb = kb + 1; qb < blocks; qb++) kept += rowsOf(qb);
  }
  const diagonals: number[] = [];
  for (const o of new Set(order)) {
    let add = 0;
    for (let qb = Math.max(o, 1); qb < blocks; qb++) {
      const kb = qb - o;
      if (kb === 0) continue;
      const rows = rowsOf(qb);
      add += kb === qb ? (rows * (rows + 1)) / 2 - (ownBlockPairs[kb] as number) : rows * (BLOCK - (columnsIn[kb] as number));
    }
    if (add === 0) continue; // past the last block, or only the sink block
    if (kept + add - budget >= budget - kept) break;
    diagonals.push(o);
    kept += add;
  }
  return { diagonals, kept };
}
