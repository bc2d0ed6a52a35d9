import { SparselandError } from '../errors.js';
import type { BlockMask } from './block-mask.js';
import { buildBlockMask } from './build-block-mask.js';
import type { IntList } from './int-list.js';
import type { MaskMod } from './mask-mod.js';

function expectSameBlockGeometry(a: BlockMask, b: BlockMask, op: string): void {
  if (a.qLength !== b.qLength || a.kvLength !== b.kvLength || a.qOffset !== b.qOffset || a.blockQ !== b.blockQ || a.blockK !== b.blockK) {
    throw new SparselandError(
      'E_SHAPE',
      `${op}: block masks must share qLength, kvLength, qOffset and block sizes, got ` +
        `${a.qLength}×${a.kvLength}@${a.qOffset} blocks ${a.blockQ}×${a.blockK} and ${b.qLength}×${b.kvLength}@${b.qOffset} blocks ${b.blockQ}×${b.blockK}`,
    );
  }
  if (a.heads !== b.heads && a.heads !== 1 && b.heads !== 1) {
    throw new SparselandError('E_SHAPE', `${op}: head counts ${a.heads} and ${b.heads} differ (one of them may be 1 to broadcast)`);
  }
}

/**
 * The MaskMod for partial blocks of a combined mask. When only one side has partial blocks, or both share one
 * MaskMod, that MaskMod is exact; otherwise fall back to testing membership in each operand.
 */
function combinedMaskMod(a: BlockMask, b: BlockMask, mode: 'or' | 'and'): MaskMod | undefined {
  const aHas = a.partial.cols.length > 0;
  const bHas = b.partial.cols.length > 0;
  if (!aHas && !bHas) return undefined;
  if (!bHas) return a.maskMod;
  if (!aHas) return b.maskMod;
  if (a.maskMod === b.maskMod) return a.maskMod;
  return mode === 'or' ? (h, q, k) => a.contains(h, q, k) || b.contains(h, q, k) : (h, q, k) => a.contains(h, q, k) && b.contains(h, q, k);
}

/** Element-wise union: a pair is kept iff either mask keeps it. Full wins over partial. */
export function unionBlockMasks(a: BlockMask, b: BlockMask): BlockMask {
  expectSameBlockGeometry(a, b, 'union');
  const maskMod = combinedMaskMod(a, b, 'or');
  return buildBlockMask(a.shape, a, { heads: Math.max(a.heads, b.heads), maskMod, trusted: true }, (h, qb, full, partial) => {
    const fa = a.fullBlocks(h, qb);
    const fb = b.fullBlocks(h, qb);
    const pa = a.partialBlocks(h, qb);
    const pb = b.partialBlocks(h, qb);
    mergeRows(fa, fb, pa, pb, full, partial, 'or');
  });
}

/** Element-wise intersection: a pair is kept iff both masks keep it. */
export function intersectBlockMasks(a: BlockMask, b: BlockMask): BlockMask {
  expectSameBlockGeometry(a, b, 'intersection');
  const maskMod = combinedMaskMod(a, b, 'and');
  return buildBlockMask(a.shape, a, { heads: Math.max(a.heads, b.heads), maskMod, trusted: true }, (h, qb, full, partial) => {
    mergeRows(a.fullBlocks(h, qb), b.fullBlocks(h, qb), a.partialBlocks(h, qb), b.partialBlocks(h, qb), full, partial, 'and');
  });
}

/** Walks the four sorted lists once and classifies each key block of the combined row. */
function mergeRows(
  fa: Int32Array,
  fb: Int32Array,
  pa: Int32Array,
  pb: Int32Array,
  full: IntList,
  partial: IntList,
  mode: 'or' | 'and',
): void {
  let i = 0;
  let j = 0;
  let k = 0;
  let l = 0;
  const INF = 0x7fffffff;
  for (;;) {
    const x = Math.min(fa[i] ?? INF, pa[k] ?? INF);
    const y = Math.min(fb[j] ?? INF, pb[l] ?? INF);
    const kb = Math.min(x, y);
    if (kb === INF) return;
    // 2 = full, 1 = partial, 0 = absent, for each side at block kb.
    const sa = fa[i] === kb ? 2 : pa[k] === kb ? 1 : 0;
    const sb = fb[j] === kb ? 2 : pb[l] === kb ? 1 : 0;
    if (sa === 2) i++;
    else if (sa === 1) k++;
    if (sb === 2) j++;
    else if (sb === 1) l++;
    const s = mode === 'or' ? (sa === 2 || sb === 2 ? 2 : sa || sb ? 1 : 0) : sa && sb ? (sa === 2 && sb === 2 ? 2 : 1) : 0;
    if (s === 2) full.push(kb);
    else if (s === 1) partial.push(kb);
  }
}
