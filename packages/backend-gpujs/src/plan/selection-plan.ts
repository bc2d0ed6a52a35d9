import { type AttentionShape, kvHeadOf, type TokenSelection } from '@sparseland/core';
import { DENSE_TILE_K, denseTileQ } from './dense-plan.js';
import { type WorkPlan, WorkPlanBuilder } from './work-plan.js';

/**
 * Decoding over a TokenSelection: each kv head's selected slots are gathered in rows of 64 keys, shared by every
 * query head of its group. With `causal`, rows whose first slot lies after a tile's last query are left out (the
 * kernels drop the remaining future slots pair by pair).
 */
export function selectionPlan(shape: AttentionShape, selection: TokenSelection, causal: boolean): WorkPlan {
  const tileQ = denseTileQ(shape.qLength);
  const tileK = DENSE_TILE_K;
  const builder = new WorkPlanBuilder(shape.heads, shape.qLength, tileQ, tileK);
  const rowsOf: { row: number; first: number }[][] = [];
  for (let g = 0; g < shape.kvHeads; g++) {
    const slots = selection.slotsOf(g);
    const rows: { row: number; first: number }[] = [];
    for (let p = 0; p < slots.length; p += tileK) {
      rows.push({ row: builder.addKeyRow(slots, p, Math.min(slots.length, p + tileK)), first: slots[p] as number });
    }
    rowsOf.push(rows);
  }
  for (let h = 0; h < shape.heads; h++) {
    const rows = rowsOf[kvHeadOf(h, shape.heads, shape.kvHeads)] ?? [];
    for (let t = 0; t < builder.qTiles; t++) {
      const lastQuery = shape.qOffset + Math.min(shape.qLength, (t + 1) * tileQ) - 1;
      for (const { row, first } of rows) {
        if (causal && first > lastQuery) break;
        builder.addGather(h, t, row);
      }
      builder.endTile();
    }
  }
  return builder.build();
}
