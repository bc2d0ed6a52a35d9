import type { MaskShape } from '@sparseland/core';

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

  /** The last key query row i may attend to. */
  lastKeyOfRow(i: number): number {
    const last = this.shape.kvLength - 1;
    return this.causal ? Math.min(last, this.shape.qOffset + i) : last;
  }
}
