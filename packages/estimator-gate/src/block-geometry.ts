import type { AttentionShape } from '@sparseland/core';

/** The block grid of one call: query blocks of `blockQ` rows, key blocks of `blockK` keys. */
export interface BlockGrid {
  readonly blockQ: number;
  readonly blockK: number;
  readonly qBlocks: number;
  readonly kBlocks: number;
  /** Per query block, the last key block it may see (causal), or kBlocks − 1 (non-causal). */
  readonly lastVisible: Int32Array;
  /**
   * Per query block, the first key block holding one of its rows' own keys when the call is causal (the own-key
   * blocks run from there to lastVisible and are always kept: every causal row keeps its own key); -1 otherwise.
   */
  readonly firstOwn: Int32Array;
}

/** The grid of a call; a causal query block sees every key block that starts at or before its last position. */
export function blockGrid(shape: AttentionShape, blockQ: number, blockK: number, causal: boolean): BlockGrid {
  const qBlocks = Math.ceil(shape.qLength / blockQ);
  const kBlocks = Math.ceil(shape.kvLength / blockK);
  const lastVisible = new Int32Array(qBlocks);
  const firstOwn = new Int32Array(qBlocks).fill(-1);
  for (let qb = 0; qb < qBlocks; qb++) {
    const lastPos = shape.qOffset + Math.min(shape.qLength, (qb + 1) * blockQ) - 1;
    lastVisible[qb] = causal ? Math.min(kBlocks - 1, Math.floor(lastPos / blockK)) : kBlocks - 1;
    if (causal) firstOwn[qb] = Math.min(kBlocks - 1, Math.floor((shape.qOffset + qb * blockQ) / blockK));
  }
  return { blockQ, blockK, qBlocks, kBlocks, lastVisible, firstOwn };
}

/** The block position of query block `qb` in key-block units (RoPE at block positions): its first row's position. */
export function queryBlockPosition(shape: AttentionShape, grid: BlockGrid, qb: number): number {
  return (shape.qOffset + qb * grid.blockQ) / grid.blockK;
}
