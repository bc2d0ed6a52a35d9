import { type AttentionShape, slicePositions } from '@sparseland/core';
import {
  type LastQueriesOptions,
  type ProbeSums,
  resolveLastQueriesCall,
  type ScoreInput,
  type ScoreRows,
  sumProbeRows,
} from '@sparseland/core/kit';
import { tileGridIndex } from '../kernels/grid-layout.js';
import { densePlan } from '../plan/dense-plan.js';
import { ITEM_FIELDS } from '../plan/work-plan.js';
import { readFlat } from '../runtime/readback.js';
import type { GpuContext } from './context.js';
import { computeWeights } from './run-plan.js';

/**
 * Backend.lastQueriesAttention: the attention weights of the last `count` rows against every key, through the same
 * kernels as attend (scores → split log-sum-exp → weights, all on the device), read back and laid out per row.
 */
export async function lastQueriesAttention(ctx: GpuContext, input: ScoreInput, options: LastQueriesOptions): Promise<ScoreRows> {
  const { shape: full, count, rowStart, causal, scale } = resolveLastQueriesCall(input, options);
  const { heads, kvLength } = full;
  const shape: AttentionShape = { ...full, qLength: count, qOffset: full.qOffset + rowStart };
  const plan = densePlan(shape, causal);
  const data = new Float32Array(heads * count * kvLength);
  if (plan.items === 0) return { kind: 'rows', data, heads, rowStart, rows: count, kvLength };
  const q = rowStart === 0 ? input.q : slicePositions(input.q, rowStart, full.qLength);
  const { weights, perRow, grid } = await computeWeights(ctx, plan, {
    q,
    k: input.k,
    shape,
    causal,
    scale,
  });
  const packed = await readFlat(weights, grid[0] * grid[1]);
  const { tileQ, tileK } = plan;
  for (let p = 0; p < plan.items; p++) {
    const h = plan.itemInfo[p * ITEM_FIELDS] as number;
    const tile = plan.itemInfo[p * ITEM_FIELDS + 1] as number;
    const keyBase = plan.itemInfo[p * ITEM_FIELDS + 2] as number;
    const width = Math.min(tileK, kvLength - keyBase);
    for (let r = 0; r < tileQ && tile * tileQ + r < count; r++) {
      const from = tileGridIndex(p, r, 0, tileQ, tileK, perRow);
      data.set(packed.subarray(from, from + width), (h * count + tile * tileQ + r) * kvLength + keyBase);
    }
  }
  return { kind: 'rows', data, heads, rowStart, rows: count, kvLength };
}

/** Backend.lastQueriesSums: the probe is read back anyway (no reduction kernel for it here), so it is summed on the host. */
export async function lastQueriesSums(ctx: GpuContext, input: ScoreInput, options: LastQueriesOptions): Promise<ProbeSums> {
  const rows = await lastQueriesAttention(ctx, input, options);
  return sumProbeRows(rows.data, 0, resolveLastQueriesCall(input, options));
}
