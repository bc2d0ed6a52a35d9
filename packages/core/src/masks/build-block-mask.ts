import { expectInteger, SparselandError } from '../errors.js';
import type { MaskShape } from '../tensor/shape.js';
import { BlockMask } from './block-mask.js';
import { IntList } from './int-list.js';
import type { MaskMod } from './mask-mod.js';

export interface BlockSizes {
  /** Query rows per block (default 64). */
  readonly blockQ?: number;
  /** Keys per block (default 64). */
  readonly blockK?: number;
}

/** 64×64 blocks by default: the tile our CPU kernels and MInference's estimators use. */
export const DEFAULT_BLOCK = 64;

export function resolveBlockSizes(sizes: BlockSizes = {}): { blockQ: number; blockK: number } {
  return {
    blockQ: expectInteger(sizes.blockQ ?? DEFAULT_BLOCK, 'blockQ', 1),
    blockK: expectInteger(sizes.blockK ?? DEFAULT_BLOCK, 'blockK', 1),
  };
}

/**
 * Builds a BlockMask row by row without materialising pairs: `fillRow(h, qb, full, partial)` appends the row's
 * key-block indices in strictly increasing order. This is how fast pattern builders and estimators make masks.
 * `heads: 1` builds one row set shared by every query head.
 */
export function buildBlockMask(
  shape: MaskShape,
  sizes: BlockSizes,
  options: { heads?: number; maskMod?: MaskMod | undefined; trusted?: boolean },
  fillRow: (h: number, qb: number, full: IntList, partial: IntList) => void,
): BlockMask {
  const { blockQ, blockK } = resolveBlockSizes(sizes);
  const heads = options.heads ?? shape.heads;
  const qBlocks = Math.ceil(shape.qLength / blockQ);
  const rows = heads * qBlocks;
  const full = new IntList(rows * 4);
  const partial = new IntList(rows * 2);
  const fullPtr = new Int32Array(rows + 1);
  const partialPtr = new Int32Array(rows + 1);
  let r = 0;
  for (let h = 0; h < heads; h++) {
    for (let qb = 0; qb < qBlocks; qb++) {
      fillRow(h, qb, full, partial);
      r++;
      fullPtr[r] = full.length;
      partialPtr[r] = partial.length;
    }
  }
  return new BlockMask(
    {
      heads,
      qLength: shape.qLength,
      kvLength: shape.kvLength,
      qOffset: shape.qOffset,
      blockQ,
      blockK,
      full: { rowPtr: fullPtr, cols: full.toArray() },
      partial: { rowPtr: partialPtr, cols: partial.toArray() },
      maskMod: options.maskMod,
    },
    { trusted: options.trusted ?? false },
  );
}

/**
 * FlexAttention's create_block_mask: evaluates `maskMod` on every pair and classifies each tile as full (all
 * in-range pairs kept), partial (some) or empty (none). O(heads·qLength·kvLength) calls; patterns with a direct
 * builder should use it for long sequences. `broadcast: true` evaluates head 0 only and shares the result.
 */
export function createBlockMask(maskMod: MaskMod, shape: MaskShape, sizes: BlockSizes & { broadcast?: boolean } = {}): BlockMask {
  const { blockQ, blockK } = resolveBlockSizes(sizes);
  const kBlocks = Math.ceil(shape.kvLength / blockK);
  return buildBlockMask(
    shape,
    { blockQ, blockK },
    { heads: sizes.broadcast ? 1 : shape.heads, maskMod, trusted: true },
    (h, qb, full, partial) => {
      const q0 = shape.qOffset + qb * blockQ;
      const q1 = shape.qOffset + Math.min(shape.qLength, (qb + 1) * blockQ);
      for (let kb = 0; kb < kBlocks; kb++) {
        const k0 = kb * blockK;
        const k1 = Math.min(shape.kvLength, k0 + blockK);
        let kept = 0;
        let dropped = 0;
        for (let q = q0; q < q1 && !(kept && dropped); q++) {
          for (let k = k0; k < k1; k++) {
            if (maskMod(h, q, k)) kept++;
            else dropped++;
            if (kept && dropped) break;
          }
        }
        if (kept && dropped) partial.push(kb);
        else if (kept) full.push(kb);
      }
    },
  );
}

/** A BlockMask from a dense 0/1 matrix `[heads][qLength][kvLength]` (tests, imports from other tools). */
export function blockMaskFromDense(dense: Uint8Array, shape: MaskShape, sizes: BlockSizes = {}): BlockMask {
  const { qLength, kvLength, qOffset } = shape;
  const expected = shape.heads * qLength * kvLength;
  if (dense.length !== expected) {
    throw new SparselandError('E_SHAPE', `blockMaskFromDense: expected ${expected} entries (heads·qLength·kvLength), got ${dense.length}`);
  }
  const mod: MaskMod = (h, q, k) => dense[(h * qLength + (q - qOffset)) * kvLength + k] === 1;
  return createBlockMask(mod, shape, sizes);
}
