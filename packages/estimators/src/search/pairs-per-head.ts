import { binarySearch, causalPairsInBox, densePairs, type MaskShape, type SparseMask } from '@sparseland/core';

/**
 * Kept pairs per query head of a SparseMask (each key once, causal when asked), and the pairs a dense call of the
 * same causality computes per head: full blocks in closed form, partial blocks by their MaskMod, columns one by one
 * unless a kept block already holds them. `undefined` is dense.
 */
export function keptPairsPerHead(mask: SparseMask | undefined, shape: MaskShape, causal: boolean): { kept: Float64Array; dense: number } {
  const dense = densePairs({ ...shape, heads: 1 }, causal);
  const kept = new Float64Array(shape.heads);
  if (mask === undefined) return { kept: kept.fill(dense), dense };
  const { blocks, columns } = mask;
  const { qLength, kvLength, qOffset } = shape;
  for (let h = 0; h < shape.heads; h++) {
    let count = 0;
    if (blocks) {
      const { blockQ, blockK } = blocks;
      for (let qb = 0; qb < blocks.qBlocks; qb++) {
        const q0 = qOffset + qb * blockQ;
        const q1 = qOffset + Math.min(qLength, (qb + 1) * blockQ);
        for (const kb of blocks.fullBlocks(h, qb)) {
          const k0 = kb * blockK;
          const k1 = Math.min(kvLength, k0 + blockK);
          count += causal ? causalPairsInBox(q0, q1, k0, k1) : (q1 - q0) * (k1 - k0);
        }
        const mod = blocks.maskMod;
        for (const kb of blocks.partialBlocks(h, qb)) {
          const k0 = kb * blockK;
          const k1 = Math.min(kvLength, k0 + blockK);
          for (let q = q0; q < q1; q++) for (let k = k0; k < (causal ? Math.min(k1, q + 1) : k1); k++) if (mod?.(h, q, k)) count++;
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
          if (blocks && inBlocks(blocks, h, i, q, k)) continue;
          count++;
        }
      }
    }
    kept[h] = count;
  }
  return { kept, dense };
}

function inBlocks(blocks: NonNullable<SparseMask['blocks']>, h: number, i: number, q: number, k: number): boolean {
  const r = blocks.rowOf(h, Math.floor(i / blocks.blockQ));
  const kb = Math.floor(k / blocks.blockK);
  if (binarySearch(blocks.full.cols, blocks.full.rowPtr[r] as number, blocks.full.rowPtr[r + 1] as number, kb) >= 0) return true;
  if (binarySearch(blocks.partial.cols, blocks.partial.rowPtr[r] as number, blocks.partial.rowPtr[r + 1] as number, kb) >= 0) {
    return blocks.maskMod?.(h, q, k) ?? false;
  }
  return false;
}
