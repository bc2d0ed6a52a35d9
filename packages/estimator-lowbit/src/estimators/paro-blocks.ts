import { createHeadTensor, type HeadTensor, SparselandError } from '@sparseland/core';
import type { EstimatorContext, EstimatorInput } from '@sparseland/core/kit';
import { stridePermutation } from '../permutation.js';

export interface ParoSelection {
  readonly strides?: readonly number[] | undefined;
  readonly bits: 4 | 8;
  readonly coverage: number;
}

/** One head's reordering and its kept blocks in the permuted order. */
export interface ParoHead {
  readonly stride: number;
  /** Key order (new → old) and its inverse. */
  readonly order: Int32Array;
  readonly inverse: Int32Array;
  /** Query rows in permuted order (new → row index). */
  readonly rowOrder: Int32Array;
  /** Per permuted query block, the kept permuted key blocks (sorted). */
  readonly kept: Int32Array[];
}

/** The call's per-head strides (default 1: the original order). */
export function headStrides(strides: readonly number[] | undefined, heads: number): number[] {
  if (strides === undefined) return Array.from({ length: heads }, () => 1);
  if (strides.length !== heads)
    throw new SparselandError('E_PARAMS', `paro strides must give one stride per query head (${heads}), got ${strides.length}`);
  return [...strides];
}

/**
 * PARO's low-bit block estimate in the permuted order: each head's queries and keys reordered by its stride,
 * quantised (int4 by default, K smoothed) and reduced to block maxima by the backend's quantizedScores; per permuted
 * query block, the blocks whose softmax over those maxima covers `coverage`, plus the blocks holding the rows' own
 * keys. Blocks without a causal pair (original positions) are never kept; pairs inside a kept block that are not
 * causal still count in its maximum (an interpretation: the op's causality is positional).
 */
export async function paroBlocks(input: EstimatorInput, ctx: EstimatorContext, selection: ParoSelection): Promise<ParoHead[]> {
  const { shape } = input;
  const { heads, kvHeads, qLength, kvLength, dim, qOffset } = shape;
  const strides = headStrides(selection.strides, heads);
  const group = heads / kvHeads;
  const { blockQ, blockK } = ctx;
  const qBlocks = Math.ceil(qLength / blockQ);
  const kBlocks = Math.ceil(kvLength / blockK);
  const out: ParoHead[] = [];
  // Heads with the same stride and kv head share one permuted K; every head gets its own permuted Q.
  const q = createHeadTensor(heads, qLength, dim);
  const k = createHeadTensor(heads, kvLength, dim);
  const perms = strides.map((s) => stridePermutation(kvLength, s));
  for (let h = 0; h < heads; h++) {
    const { order, inverse } = perms[h] as { order: Int32Array; inverse: Int32Array };
    const g = Math.floor(h / group);
    for (let j = 0; j < kvLength; j++) {
      const src = (g * kvLength + (order[j] as number)) * dim;
      k.data.set(input.k.data.subarray(src, src + dim), (h * kvLength + j) * dim);
    }
    // Queries follow the order of their positions among the keys.
    const rowOrder = Int32Array.from({ length: qLength }, (_, i) => i).sort(
      (a, b) =>
        (inverse[Math.min(kvLength - 1, qOffset + a)] as number) - (inverse[Math.min(kvLength - 1, qOffset + b)] as number) || a - b,
    );
    for (let r = 0; r < qLength; r++) {
      const src = (h * qLength + (rowOrder[r] as number)) * dim;
      q.data.set(input.q.data.subarray(src, src + dim), (h * qLength + r) * dim);
    }
    out.push({ stride: strides[h] as number, order, inverse, rowOrder, kept: [] });
  }
  const pooled = await ctx.backend.quantizedScores(
    { q, k: k as HeadTensor, qOffset: Math.max(0, kvLength - qLength) },
    { bits: selection.bits, smoothK: true, causal: false, pool: { blockQ, blockK } },
  );
  ctx.cost.add(2 * dim * heads * qLength * kvLength, 'low-bit block estimate');
  const data = pooled.data;
  const order = new Int32Array(kBlocks);
  const prob = new Float64Array(kBlocks);
  for (let h = 0; h < heads; h++) {
    const head = out[h] as ParoHead;
    // Original positions: the latest query of each permuted query block, the earliest key of each key block.
    const minKey = new Int32Array(kBlocks).fill(2 ** 30);
    for (let j = 0; j < kvLength; j++) {
      const kb = Math.floor(j / blockK);
      minKey[kb] = Math.min(minKey[kb] as number, head.order[j] as number);
    }
    for (let pqb = 0; pqb < qBlocks; pqb++) {
      let maxPos = -1;
      const own = new Set<number>();
      for (let r = pqb * blockQ; r < Math.min(qLength, (pqb + 1) * blockQ); r++) {
        const pos = qOffset + (head.rowOrder[r] as number);
        maxPos = Math.max(maxPos, pos);
        if (pos < kvLength) own.add(Math.floor((head.inverse[pos] as number) / blockK));
      }
      const base = (h * qBlocks + pqb) * kBlocks;
      let n = 0;
      let max = -Infinity;
      for (let kb = 0; kb < kBlocks; kb++) {
        if (input.causal && (minKey[kb] as number) > maxPos) continue;
        order[n++] = kb;
        max = Math.max(max, data[base + kb] as number);
      }
      let sum = 0;
      for (let t = 0; t < n; t++) {
        const kb = order[t] as number;
        prob[kb] = Math.exp((data[base + kb] as number) - max);
        sum += prob[kb] as number;
      }
      const visible = order.subarray(0, n);
      visible.sort((a, b) => (prob[b] as number) - (prob[a] as number) || a - b);
      const keep = new Set(own);
      let acc = 0;
      for (let t = 0; t < n && acc < selection.coverage * sum; t++) {
        keep.add(visible[t] as number);
        acc += prob[visible[t] as number] as number;
      }
      head.kept.push(Int32Array.from(keep).sort());
    }
  }
  return out;
}
