import { type AttentionShape, binarySearch, causalPairsInBox, type MaskMod, type SparseMask } from '@sparseland/core';

/**
 * Kept pairs per query head, counted exactly like core's `countKeptPairs` (full blocks in closed form, partial
 * blocks through the MaskMod, columns one by one without counting a key the blocks keep), and the pairs a dense call
 * computes per head. `mask` undefined means dense.
 */
export function keptPairsPerHead(
  mask: SparseMask | undefined,
  shape: AttentionShape,
  causal: boolean,
): { kept: Float64Array; dense: number } {
  const { heads, qLength, kvLength, qOffset } = shape;
  const dense = causal ? causalPairsInBox(qOffset, qOffset + qLength, 0, kvLength) : qLength * kvLength;
  const kept = new Float64Array(heads);
  if (mask === undefined) {
    kept.fill(dense);
    return { kept, dense };
  }
  const { blocks, columns } = mask;
  for (let h = 0; h < heads; h++) {
    let count = 0;
    if (blocks) {
      const { blockQ, blockK } = blocks;
      const mod = blocks.maskMod as MaskMod;
      for (let qb = 0; qb < blocks.qBlocks; qb++) {
        const q0 = qOffset + qb * blockQ;
        const q1 = qOffset + Math.min(qLength, (qb + 1) * blockQ);
        for (const kb of blocks.fullBlocks(h, qb)) {
          const k0 = kb * blockK;
          const k1 = Math.min(kvLength, k0 + blockK);
          count += causal ? causalPairsInBox(q0, q1, k0, k1) : (q1 - q0) * (k1 - k0);
        }
        for (const kb of blocks.partialBlocks(h, qb)) {
          const k0 = kb * blockK;
          const k1 = Math.min(kvLength, k0 + blockK);
          for (let q = q0; q < q1; q++) {
            const last = causal ? Math.min(k1, q + 1) : k1;
            for (let k = k0; k < last; k++) if (mod(h, q, k)) count++;
          }
        }
      }
    }
    if (columns) {
      for (let i = 0; i < qLength; i++) {
        const q = qOffset + i;
        const cols = columns.columns(h, Math.floor(i / columns.blockQ));
        for (let p = 0; p < cols.length; p++) {
          const k = cols[p] as number;
          if (causal && k > q) break;
          if (blocks && blocksKeep(blocks, h, i, q, k)) continue;
          count++;
        }
      }
    }
    kept[h] = count;
  }
  return { kept, dense };
}

function blocksKeep(blocks: NonNullable<SparseMask['blocks']>, h: number, i: number, q: number, k: number): boolean {
  const r = blocks.rowOf(h, Math.floor(i / blocks.blockQ));
  const kb = Math.floor(k / blocks.blockK);
  if (binarySearch(blocks.full.cols, blocks.full.rowPtr[r] as number, blocks.full.rowPtr[r + 1] as number, kb) >= 0) return true;
  if (binarySearch(blocks.partial.cols, blocks.partial.rowPtr[r] as number, blocks.partial.rowPtr[r + 1] as number, kb) >= 0) {
    return (blocks.maskMod as MaskMod)(h, q, k);
  }
  return false;
}
