import { causalPairsInBox } from '../masks/block-mask.js';
import { binarySearch } from '../masks/int-list.js';
import type { MaskMod } from '../masks/mask-mod.js';
import { type AttentionMask, toSparseMask } from '../masks/sparse-mask.js';
import type { MaskShape } from '../tensor/shape.js';

export interface PairCount {
  /** Pairs the mask keeps (each key once), summed over query heads. */
  readonly kept: number;
  /** Pairs a dense call of the same causality would compute. */
  readonly total: number;
}

/** Pairs a dense call computes: qLength·kvLength per head, or the causal triangle. */
export function densePairs(shape: MaskShape, causal: boolean): number {
  const perHead = causal
    ? causalPairsInBox(shape.qOffset, shape.qOffset + shape.qLength, 0, shape.kvLength)
    : shape.qLength * shape.kvLength;
  return perHead * shape.heads;
}

/** Kept pairs per query head and the pairs a dense call computes per head. */
export interface PairCountPerHead {
  /** Kept pairs of each query head (each key once). */
  readonly kept: Float64Array;
  /** Pairs one head of a dense call of the same causality computes. */
  readonly densePerHead: number;
}

/**
 * Counts kept pairs exactly, per query head, without building the dense matrix: full blocks in closed form, partial
 * blocks by evaluating their MaskMod, columns one by one (skipping keys the blocks already keep).
 */
export function countKeptPairsPerHead(
  mask: AttentionMask | undefined,
  shape: MaskShape,
  options: { causal?: boolean } = {},
): PairCountPerHead {
  const causal = options.causal ?? true;
  const densePerHead = densePairs({ ...shape, heads: 1 }, causal);
  const kept = new Float64Array(shape.heads);
  if (mask === undefined) return { kept: kept.fill(densePerHead), densePerHead };
  const { blocks, columns } = toSparseMask(mask, shape);
  const { heads, qLength, kvLength, qOffset } = shape;
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
          if (blocks && blockKeeps(blocks, h, i, q, k)) continue;
          count++;
        }
      }
    }
    kept[h] = count;
  }
  return { kept, densePerHead };
}

/** Kept pairs summed over query heads, and the pairs a dense call of the same causality computes. */
export function countKeptPairs(mask: AttentionMask | undefined, shape: MaskShape, options: { causal?: boolean } = {}): PairCount {
  const { kept, densePerHead } = countKeptPairsPerHead(mask, shape, options);
  let total = 0;
  for (const k of kept) total += k;
  return { kept: total, total: densePerHead * shape.heads };
}

function blockKeeps(blocks: NonNullable<ReturnType<typeof toSparseMask>['blocks']>, h: number, i: number, q: number, k: number): boolean {
  const r = blocks.rowOf(h, Math.floor(i / blocks.blockQ));
  const kb = Math.floor(k / blocks.blockK);
  if (binarySearch(blocks.full.cols, blocks.full.rowPtr[r] as number, blocks.full.rowPtr[r + 1] as number, kb) >= 0) return true;
  if (binarySearch(blocks.partial.cols, blocks.partial.rowPtr[r] as number, blocks.partial.rowPtr[r + 1] as number, kb) >= 0) {
    return (blocks.maskMod as MaskMod)(h, q, k);
  }
  return false;
}

/**
 * Element-level density: kept pairs over the pairs a dense call computes (the causal triangle when causal).
 * This is the number the papers' "density" and our targets use.
 */
export function density(mask: AttentionMask | undefined, shape: MaskShape, options: { causal?: boolean } = {}): number {
  const { kept, total } = countKeptPairs(mask, shape, options);
  return total === 0 ? 0 : kept / total;
}

/** FLOPs of attention over `pairs` kept pairs: Q·Kᵀ (2d) plus P·V (2d) per pair; softmax not counted. */
export function attentionFlops(pairs: number, dim: number): number {
  return 4 * dim * pairs;
}

/** FLOPs of dense attention for a shape: 2·N²·d per head when causal with N queries and keys, as in performance.md. */
export function denseAttentionFlops(shape: MaskShape & { dim: number }, causal = true): number {
  return attentionFlops(densePairs(shape, causal), shape.dim);
}

/** FLOPs of a masked call (exact kept pairs). */
export function maskedAttentionFlops(mask: AttentionMask | undefined, shape: MaskShape & { dim: number }, causal = true): number {
  return attentionFlops(countKeptPairs(mask, shape, { causal }).kept, shape.dim);
}
