import type { BlockMask, MaskShape } from '@sparseland/core';
import { buildBlockMask } from '@sparseland/core/kit';

/**
 * Where the query blocks of a call sit: block qb holds query rows [qb·blockQ, min(qLength, (qb+1)·blockQ)), at
 * absolute positions qOffset + row. `lastKey(qb)` is the last key any row of the block may see (the causal limit).
 */
export class QueryBlocks {
  readonly count: number;

  constructor(
    readonly shape: MaskShape,
    readonly blockQ: number,
    readonly causal: boolean,
  ) {
    this.count = Math.ceil(shape.qLength / blockQ);
  }

  /** First query row of block qb (an index into q). */
  firstRow(qb: number): number {
    return qb * this.blockQ;
  }

  /** One past the last query row of block qb. */
  endRow(qb: number): number {
    return Math.min(this.shape.qLength, (qb + 1) * this.blockQ);
  }

  firstPos(qb: number): number {
    return this.shape.qOffset + qb * this.blockQ;
  }

  lastPos(qb: number): number {
    return this.shape.qOffset + this.endRow(qb) - 1;
  }

  /** The last key a row of block qb may attend to: its last position when causal, else the last key. */
  lastKey(qb: number): number {
    const last = this.shape.kvLength - 1;
    return this.causal ? Math.min(last, this.lastPos(qb)) : last;
  }

  /**
   * Key blocks [first, last] holding the rows' own keys (key position = query position): every row must keep its
   * own key, and when blockQ > blockK one query block spans several such key blocks, not just the last row's.
   */
  ownKeyBlocks(qb: number, blockK: number): { readonly first: number; readonly last: number } {
    const lastKey = this.shape.kvLength - 1;
    return {
      first: Math.floor(Math.min(lastKey, this.firstPos(qb)) / blockK),
      last: Math.floor(Math.min(lastKey, this.lastPos(qb)) / blockK),
    };
  }

  /** The last key query row i may attend to. */
  lastKeyOfRow(i: number): number {
    const last = this.shape.kvLength - 1;
    return this.causal ? Math.min(last, this.shape.qOffset + i) : last;
  }
}

/**
 * The key blocks holding every query row's own key, as full blocks shared by all heads (a causal call clips them
 * at the diagonal): unioned into a selection so that no row is left without a key.
 */
export function ownKeyBlocks(shape: MaskShape, sizes: { blockQ: number; blockK: number }): BlockMask {
  const blocks = new QueryBlocks(shape, sizes.blockQ, true);
  return buildBlockMask(shape, sizes, { heads: 1, trusted: true }, (_h, qb, full) => {
    const own = blocks.ownKeyBlocks(qb, sizes.blockK);
    full.pushRange(own.first, own.last + 1);
  });
}
