import { SparselandError } from '../errors.js';
import type { MaskShape } from '../tensor/shape.js';
import type { BlockMask } from './block-mask.js';
import { buildBlockMask } from './build-block-mask.js';
import { ColumnMask } from './column-mask.js';
import type { MaskMod } from './mask-mod.js';
import type { SparseMask } from './sparse-mask.js';

/** One mask (or `dense`) and the query heads it applies to. */
export interface HeadGroup {
  readonly mask: SparseMask | 'dense';
  readonly heads: readonly number[];
}

/**
 * Assembles one SparseMask for all query heads from per-head-group masks (per-head recipes: MoA, MInference's
 * search). Every group must use the same block sizes. Dense heads get every key block as full.
 */
export function mergeHeadMasks(shape: MaskShape, groups: readonly HeadGroup[], sizes: { blockQ: number; blockK: number }): SparseMask {
  const owner = new Array<SparseMask | 'dense' | undefined>(shape.heads).fill(undefined);
  for (const g of groups) for (const h of g.heads) owner[h] = g.mask;
  owner.forEach((m, h) => {
    if (m === undefined) throw new SparselandError('E_RECIPE', `no mask was given for query head ${h}`);
  });
  const masks = owner as (SparseMask | 'dense')[];
  for (const m of masks) {
    if (m === 'dense' || !m.blocks) continue;
    if (m.blocks.blockQ !== sizes.blockQ || m.blocks.blockK !== sizes.blockK) {
      throw new SparselandError(
        'E_SHAPE',
        `per-head masks must share block sizes ${sizes.blockQ}×${sizes.blockK}, got a mask with ${m.blocks.blockQ}×${m.blocks.blockK}`,
      );
    }
  }
  const kBlocks = Math.ceil(shape.kvLength / sizes.blockK);
  const anyBlocks = masks.some((m) => m === 'dense' || m.blocks !== undefined);
  const anyColumns = masks.some((m) => m !== 'dense' && m.columns !== undefined);
  const modOf = masks.map((m) => (m === 'dense' ? undefined : m.blocks?.maskMod));
  const anyPartial = masks.some((m) => m !== 'dense' && (m.blocks?.partial.cols.length ?? 0) > 0);
  const maskMod: MaskMod | undefined = anyPartial ? (h, q, k) => (modOf[h] as MaskMod)(h, q, k) : undefined;
  const blocks: BlockMask | undefined = anyBlocks
    ? buildBlockMask(shape, sizes, { heads: shape.heads, maskMod, trusted: true }, (h, qb, full, partial) => {
        const m = masks[h] as SparseMask | 'dense';
        if (m === 'dense') {
          full.pushRange(0, kBlocks);
          return;
        }
        if (!m.blocks) return;
        full.pushAll(m.blocks.fullBlocks(h, qb));
        partial.pushAll(m.blocks.partialBlocks(h, qb));
      })
    : undefined;
  if (!anyColumns) return blocks ? { blocks } : {};
  const columnBlockQ = (masks.find((m) => m !== 'dense' && m.columns) as SparseMask).columns?.blockQ as number;
  const columns = ColumnMask.build(shape, columnBlockQ, { heads: shape.heads, trusted: true }, (h, qb, out) => {
    const m = masks[h] as SparseMask | 'dense';
    if (m === 'dense' || !m.columns) return;
    if (m.columns.blockQ !== columnBlockQ) {
      throw new SparselandError('E_SHAPE', `per-head column masks must share blockQ ${columnBlockQ}, got ${m.columns.blockQ}`);
    }
    out.pushAll(m.columns.columns(h, qb));
  });
  return blocks ? { blocks, columns } : { columns };
}
