import type { BlockMask, MaskShape } from '@sparseland/core';
import { buildBlockMask, flagParam, numberParam } from '@sparseland/core/kit';
import { z } from 'zod';
import type { BlockGrid } from './block-geometry.js';

/** How a gate's block probabilities become a mask (SeerAttention's two inference modes, plus coverage). */
export const selectionParams = {
  mode: z
    .enum(['threshold', 'ratio', 'coverage'])
    .default('threshold')
    .describe(
      "'threshold': keep blocks above `threshold`; 'ratio': keep the top `ratio` of each row's visible blocks; 'coverage': keep the most probable blocks until their probability reaches `coverage`",
    ),
  threshold: numberParam(0, 1, 5e-4, 'gate probability a kept block exceeds (SeerAttention README example 5e-4; typical 5e-4 to 5e-3)'),
  ratio: numberParam(0, 1, 0.1, "fraction of a row's visible key blocks kept in 'ratio' mode (SeerAttention's nz_ratio)"),
  coverage: numberParam(0, 1, 0.9, "gate probability mass kept per query block in 'coverage' mode (this library's addition)"),
  lastBlockDense: flagParam(true, 'the last query block keeps every visible key block (SeerAttention seerattn_last_block_dense)'),
};

export interface Selection {
  readonly mode: 'threshold' | 'ratio' | 'coverage';
  readonly threshold: number;
  readonly ratio: number;
  readonly coverage: number;
  readonly lastBlockDense: boolean;
}

/** Softmax of each row of `logits` [heads][qBlocks][kBlocks] over its visible blocks, in place; invisible ones become NaN. */
export function softmaxVisible(logits: Float32Array, heads: number, grid: BlockGrid): void {
  const { qBlocks, kBlocks, lastVisible } = grid;
  for (let h = 0; h < heads; h++) {
    for (let qb = 0; qb < qBlocks; qb++) {
      const base = (h * qBlocks + qb) * kBlocks;
      const last = lastVisible[qb] as number;
      let max = -Infinity;
      for (let kb = 0; kb <= last; kb++) max = Math.max(max, logits[base + kb] as number);
      let sum = 0;
      for (let kb = 0; kb <= last; kb++) {
        const e = Math.exp((logits[base + kb] as number) - max);
        logits[base + kb] = e;
        sum += e;
      }
      for (let kb = 0; kb <= last; kb++) logits[base + kb] = (logits[base + kb] as number) / sum;
      for (let kb = last + 1; kb < kBlocks; kb++) logits[base + kb] = Number.NaN;
    }
  }
}

/**
 * Full blocks from per-row block probabilities [heads][qBlocks][kBlocks] (NaN = not visible). Every row keeps at
 * least its most probable block, and in a causal call the blocks of its rows' own keys (the diagonal, several when
 * blockQ > blockK), so no query is left without keys.
 */
export function selectBlocks(probs: Float32Array, shape: MaskShape, grid: BlockGrid, selection: Selection): BlockMask {
  const { qBlocks, kBlocks, lastVisible, blockQ, blockK } = grid;
  const order = new Int32Array(kBlocks);
  return buildBlockMask(shape, { blockQ, blockK }, { heads: shape.heads, trusted: true }, (h, qb, full) => {
    const base = (h * qBlocks + qb) * kBlocks;
    const visible = (lastVisible[qb] as number) + 1;
    if (visible <= 0) return;
    if (selection.lastBlockDense && qb === qBlocks - 1) {
      for (let kb = 0; kb < visible; kb++) full.push(kb);
      return;
    }
    for (let kb = 0; kb < visible; kb++) order[kb] = kb;
    const picked = order.subarray(0, visible);
    picked.sort((a, b) => (probs[base + b] as number) - (probs[base + a] as number) || b - a);
    let take = 1;
    if (selection.mode === 'threshold') {
      while (take < visible && (probs[base + (picked[take] as number)] as number) > selection.threshold) take++;
    } else if (selection.mode === 'ratio') {
      take = Math.max(1, Math.ceil(selection.ratio * visible));
    } else {
      let acc = probs[base + (picked[0] as number)] as number;
      while (take < visible && acc < selection.coverage * (1 - 1e-12)) acc += probs[base + (picked[take++] as number)] as number;
    }
    const chosen = picked.slice(0, take);
    const own = grid.firstOwn[qb] as number;
    if (own >= 0) {
      const keep = new Set(chosen);
      for (let kb = own; kb < visible; kb++) keep.add(kb);
      full.pushAll(Int32Array.from(keep).sort());
    } else full.pushAll(chosen.sort());
  });
}
