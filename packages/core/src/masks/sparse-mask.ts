import { describeValue, SparselandError } from '../errors.js';
import type { MaskShape } from '../tensor/shape.js';
import { applyCausalToDense, BlockMask } from './block-mask.js';
import { intersectBlockMasks, unionBlockMasks } from './block-mask-algebra.js';
import { type BlockSizes, buildBlockMask, createBlockMask } from './build-block-mask.js';
import { ColumnMask, unionColumnMasks } from './column-mask.js';
import type { MaskMod } from './mask-mod.js';

/**
 * What patterns and estimators produce and kernels consume. A pair is computed iff it is in `blocks` ∪ `columns`
 * (partial blocks filtered by the BlockMask's MaskMod) and, when the call is causal, k ≤ q. Each key is counted
 * once even if both parts name it. `{}` keeps nothing.
 */
export interface SparseMask {
  readonly blocks?: BlockMask | undefined;
  readonly columns?: ColumnMask | undefined;
}

/** Every form a caller may pass as a mask. A bare MaskMod is turned into a BlockMask with createBlockMask. */
export type AttentionMask = SparseMask | BlockMask | ColumnMask | MaskMod;

/** Normalises any mask form to a SparseMask for `shape`, checking that its geometry matches. */
export function toSparseMask(mask: AttentionMask, shape: MaskShape, sizes: BlockSizes = {}): SparseMask {
  let sparse: SparseMask;
  if (typeof mask === 'function') sparse = { blocks: createBlockMask(mask, shape, sizes) };
  else if (mask instanceof BlockMask) sparse = { blocks: mask };
  else if (mask instanceof ColumnMask) sparse = { columns: mask };
  else if (typeof mask === 'object' && mask !== null && isSparseMaskLike(mask)) sparse = mask;
  else {
    throw new SparselandError(
      'E_SHAPE',
      `mask must be a SparseMask {blocks?, columns?}, a BlockMask, a ColumnMask or a MaskMod function, got ${describeValue(mask)}`,
    );
  }
  if (sparse.blocks) expectMaskFits(sparse.blocks, shape, 'mask.blocks');
  if (sparse.columns) expectMaskFits(sparse.columns, shape, 'mask.columns');
  return sparse;
}

function isSparseMaskLike(m: object): m is SparseMask {
  const x = m as Record<string, unknown>;
  const keysOk = Object.keys(x).every((k) => k === 'blocks' || k === 'columns');
  return (
    keysOk &&
    (x['blocks'] === undefined || x['blocks'] instanceof BlockMask) &&
    (x['columns'] === undefined || x['columns'] instanceof ColumnMask)
  );
}

/** Throws E_SHAPE unless a mask was built for this call's geometry (heads equal, or 1 to broadcast). */
export function expectMaskFits(mask: BlockMask | ColumnMask, shape: MaskShape, what: string): void {
  if (mask.qLength !== shape.qLength || mask.kvLength !== shape.kvLength || mask.qOffset !== shape.qOffset) {
    throw new SparselandError(
      'E_SHAPE',
      `${what} was built for qLength ${mask.qLength}, kvLength ${mask.kvLength}, qOffset ${mask.qOffset} but the call has ` +
        `qLength ${shape.qLength}, kvLength ${shape.kvLength}, qOffset ${shape.qOffset}`,
    );
  }
  if (mask.heads !== 1 && mask.heads !== shape.heads) {
    throw new SparselandError(
      'E_SHAPE',
      `${what} describes ${mask.heads} heads but the call has ${shape.heads} query heads (use 1 to share one mask)`,
    );
  }
}

/** Whether the SparseMask keeps (h, qPos, kPos), ignoring causality. */
export function sparseMaskContains(mask: SparseMask, h: number, qPos: number, kPos: number): boolean {
  return (mask.blocks?.contains(h, qPos, kPos) ?? false) || (mask.columns?.contains(h, qPos, kPos) ?? false);
}

/** The SparseMask's membership as a MaskMod. */
export function sparseMaskAsMaskMod(mask: SparseMask): MaskMod {
  return (h, q, k) => sparseMaskContains(mask, h, q, k);
}

/**
 * Marks in `out[0..kvLength)` (zeroed first) the keys query row i of head h keeps, including causality when asked.
 * O(kvLength + kept blocks · block area); this is the reference's view of a mask.
 */
export function fillRowMembership(mask: SparseMask, h: number, i: number, qOffset: number, causal: boolean, out: Uint8Array): void {
  out.fill(0);
  const b = mask.blocks;
  const c = mask.columns;
  const qPos = qOffset + i;
  if (b) {
    const qb = Math.floor(i / b.blockQ);
    for (const kb of b.fullBlocks(h, qb)) out.fill(1, kb * b.blockK, Math.min(b.kvLength, (kb + 1) * b.blockK));
    const mod = b.maskMod;
    for (const kb of b.partialBlocks(h, qb)) {
      const k1 = Math.min(b.kvLength, (kb + 1) * b.blockK);
      for (let k = kb * b.blockK; k < k1; k++) if ((mod as MaskMod)(h, qPos, k)) out[k] = 1;
    }
  }
  if (c) for (const k of c.columns(h, Math.floor(i / c.blockQ))) out[k] = 1;
  if (causal && qPos + 1 < out.length) out.fill(0, Math.max(0, qPos + 1));
}

/** Element-level 0/1 matrix `[heads][qLength][kvLength]` of a SparseMask for `shape`. */
export function sparseMaskToDense(mask: SparseMask, shape: MaskShape, options: { causal?: boolean } = {}): Uint8Array {
  const { heads, qLength, kvLength } = shape;
  const out = new Uint8Array(heads * qLength * kvLength);
  const row = new Uint8Array(kvLength);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < qLength; i++) {
      fillRowMembership(mask, h, i, shape.qOffset, false, row);
      out.set(row, (h * qLength + i) * kvLength);
    }
  }
  if (options.causal) applyCausalToDense(out, heads, qLength, kvLength, shape.qOffset);
  return out;
}

/** Union of SparseMasks: blocks ∪ blocks and columns ∪ columns, exact, each key once. */
export function unionMasks(a: SparseMask, b: SparseMask): SparseMask {
  const blocks = a.blocks && b.blocks ? unionBlockMasks(a.blocks, b.blocks) : (a.blocks ?? b.blocks);
  const columns = a.columns && b.columns ? unionColumnMasks(a.columns, b.columns) : (a.columns ?? b.columns);
  return compact({ blocks, columns });
}

/**
 * Intersection of SparseMasks. Without columns it is the block intersection; with columns the exact result is
 * expressed as partial blocks over every block both operands touch (columns cannot be intersected with a
 * per-element MaskMod and stay columns).
 */
export function intersectMasks(a: SparseMask, b: SparseMask, sizes?: BlockSizes): SparseMask {
  if (!a.columns && !b.columns) {
    if (!a.blocks || !b.blocks) return {};
    return { blocks: intersectBlockMasks(a.blocks, b.blocks) };
  }
  const geometry = a.blocks ?? a.columns ?? b.blocks ?? b.columns;
  if (!geometry) return {};
  const ba = sparseMaskToBlockMask(a, geometry.shape, sizes ?? blockSizesOf(a, b));
  const bb = sparseMaskToBlockMask(b, geometry.shape, sizes ?? blockSizesOf(a, b));
  return { blocks: intersectBlockMasks(ba, bb) };
}

function blockSizesOf(a: SparseMask, b: SparseMask): BlockSizes {
  const blocks = a.blocks ?? b.blocks;
  if (blocks) return { blockQ: blocks.blockQ, blockK: blocks.blockK };
  const columns = (a.columns ?? b.columns) as ColumnMask;
  return { blockQ: columns.blockQ, blockK: columns.blockQ };
}

/**
 * Expresses any SparseMask as one BlockMask: blocks keep their state; key blocks touched only by columns become
 * partial blocks whose MaskMod tests membership in the whole SparseMask. For backends without column support.
 */
export function sparseMaskToBlockMask(mask: SparseMask, shape: MaskShape, sizes: BlockSizes = {}): BlockMask {
  const { blocks, columns } = mask;
  if (blocks && !columns) return blocks;
  const blockQ = blocks?.blockQ ?? sizes.blockQ ?? columns?.blockQ ?? 64;
  const blockK = blocks?.blockK ?? sizes.blockK ?? 64;
  const heads = Math.max(blocks?.heads ?? 1, columns?.heads ?? 1);
  const member = sparseMaskAsMaskMod(mask);
  return buildBlockMask(shape, { blockQ, blockK }, { heads, maskMod: member, trusted: true }, (h, qb, full, partial) => {
    const touched = new Set<number>();
    if (columns) {
      // Columns are grouped per query block of the ColumnMask; collect every key block any covered row touches.
      const q0 = qb * blockQ;
      const q1 = Math.min(shape.qLength, q0 + blockQ);
      for (let cqb = Math.floor(q0 / columns.blockQ); cqb <= Math.floor((q1 - 1) / columns.blockQ); cqb++) {
        for (const k of columns.columns(h, cqb)) touched.add(Math.floor(k / blockK));
      }
    }
    const fullList = blocks ? blocks.fullBlocks(h, qb) : new Int32Array(0);
    const partialList = blocks ? blocks.partialBlocks(h, qb) : new Int32Array(0);
    for (const kb of partialList) touched.add(kb);
    for (const kb of fullList) touched.delete(kb);
    const sortedPartial = Array.from(touched).sort((x, y) => x - y);
    full.pushAll(fullList);
    partial.pushAll(sortedPartial);
  });
}

function compact(mask: SparseMask): SparseMask {
  const out: { blocks?: BlockMask; columns?: ColumnMask } = {};
  if (mask.blocks) out.blocks = mask.blocks;
  if (mask.columns) out.columns = mask.columns;
  return out;
}
