import type { AttentionShape } from '@sparseland/core';
import { type WorkPlan, WorkPlanBuilder } from './work-plan.js';

/** Key tile of dense and gathered plans: 64 keys, the block size the project's estimators use. */
export const DENSE_TILE_K = 64;

/**
 * Query tile of a dense plan: 64 rows, or the next power of two ≥ qLength for short chunks (one-token decode does
 * not pay for 63 idle rows). Powers of two keep the number of compiled shape classes small.
 */
export function denseTileQ(qLength: number): number {
  let t = 1;
  while (t < qLength && t < 64) t *= 2;
  return t;
}

/** Every key block for every tile; with `causal`, blocks entirely after the tile's last query are left out. */
export function densePlan(shape: AttentionShape, causal: boolean): WorkPlan {
  const tileQ = denseTileQ(shape.qLength);
  const tileK = DENSE_TILE_K;
  const builder = new WorkPlanBuilder(shape.heads, shape.qLength, tileQ, tileK);
  const kBlocks = Math.ceil(shape.kvLength / tileK);
  for (let h = 0; h < shape.heads; h++) {
    for (let t = 0; t < builder.qTiles; t++) {
      const lastQuery = shape.qOffset + Math.min(shape.qLength, (t + 1) * tileQ) - 1;
      for (let kb = 0; kb < kBlocks; kb++) {
        if (causal && kb * tileK > lastQuery) break;
        builder.addBlock(h, t, kb * tileK);
      }
      builder.endTile();
    }
  }
  return builder.build();
}
