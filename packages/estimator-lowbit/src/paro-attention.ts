import {
  type AttendResult,
  type AttentionInput,
  type Backend,
  createHeadTensor,
  createReferenceBackend,
  type HeadTensor,
} from '@sparseland/core';
import { buildBlockMask, createCostMeter, resolveAttentionShape } from '@sparseland/core/kit';
import { paroBlocks } from './estimators/paro-blocks.js';

export interface ParoAttentionOptions {
  /** Per query head reorder stride (default 1 for every head). */
  readonly strides?: readonly number[];
  readonly bits?: 4 | 8;
  /** Estimated block softmax mass kept per permuted query block (default 0.9). */
  readonly coverage?: number;
  readonly blockQ?: number;
  readonly blockK?: number;
  /** Default: the float64 reference. */
  readonly backend?: Backend;
}

export interface ParoAttentionResult extends AttendResult {
  /** Kept pairs over causal pairs, counted in the original positions. */
  readonly density: number;
}

/**
 * PAROAttention end to end, causal: reorder every head's queries, keys and values by its stride, estimate and keep
 * blocks in that order, run block-sparse attention there (causality by the original positions, inside the blocks),
 * and put the output rows back in the original order.
 */
export async function paroAttention(input: AttentionInput, options: ParoAttentionOptions = {}): Promise<ParoAttentionResult> {
  const shape = resolveAttentionShape(input);
  const { heads, kvHeads, qLength, kvLength, dim, qOffset } = shape;
  const blockQ = options.blockQ ?? 64;
  const blockK = options.blockK ?? 64;
  const backend = options.backend ?? createReferenceBackend();
  try {
    const ctx = { backend, cost: createCostMeter(), seed: 0, layer: 0, blockQ, blockK };
    const plan = await paroBlocks({ q: input.q, k: input.k, shape, causal: true }, ctx, {
      strides: options.strides,
      bits: options.bits ?? 4,
      coverage: options.coverage ?? 0.9,
    });
    const group = heads / kvHeads;
    const q = createHeadTensor(heads, qLength, dim);
    const k = createHeadTensor(heads, kvLength, dim);
    const v = createHeadTensor(heads, kvLength, dim);
    for (let h = 0; h < heads; h++) {
      const head = plan[h] as (typeof plan)[number];
      const g = Math.floor(h / group);
      for (let r = 0; r < qLength; r++) {
        const src = (h * qLength + (head.rowOrder[r] as number)) * dim;
        q.data.set(input.q.data.subarray(src, src + dim), (h * qLength + r) * dim);
      }
      for (let j = 0; j < kvLength; j++) {
        const src = (g * kvLength + (head.order[j] as number)) * dim;
        k.data.set(input.k.data.subarray(src, src + dim), (h * kvLength + j) * dim);
        v.data.set(input.v.data.subarray(src, src + dim), (h * kvLength + j) * dim);
      }
    }
    const permutedOffset = kvLength - qLength;
    const originalQuery = (h: number, qPos: number) =>
      qOffset + ((plan[h] as (typeof plan)[number]).rowOrder[qPos - permutedOffset] as number);
    const maskMod = (h: number, qPos: number, kPos: number) =>
      ((plan[h] as (typeof plan)[number]).order[kPos] as number) <= originalQuery(h, qPos);
    const blocks = buildBlockMask(
      { heads, qLength, kvLength, qOffset: permutedOffset },
      { blockQ, blockK },
      { maskMod },
      (h, qb, _full, partial) => {
        partial.pushAll((plan[h] as (typeof plan)[number]).kept[qb] as Int32Array);
      },
    );
    let kept = 0;
    for (let h = 0; h < heads; h++) {
      const head = plan[h] as (typeof plan)[number];
      for (let qb = 0; qb < head.kept.length; qb++) {
        for (const kb of head.kept[qb] as Int32Array) {
          for (let r = qb * blockQ; r < Math.min(qLength, (qb + 1) * blockQ); r++) {
            const pos = qOffset + (head.rowOrder[r] as number);
            for (let j = kb * blockK; j < Math.min(kvLength, (kb + 1) * blockK); j++) if ((head.order[j] as number) <= pos) kept++;
          }
        }
      }
    }
    let causalPairs = 0;
    for (let i = 0; i < qLength; i++) causalPairs += Math.min(kvLength, qOffset + i + 1);
    const run = await backend.attend(
      { q, k: k as HeadTensor, v: v as HeadTensor, qOffset: permutedOffset },
      { mask: { blocks }, causal: false },
    );
    const output = createHeadTensor(heads, qLength, dim);
    const lse = new Float32Array(heads * qLength);
    for (let h = 0; h < heads; h++) {
      const head = plan[h] as (typeof plan)[number];
      for (let r = 0; r < qLength; r++) {
        const i = head.rowOrder[r] as number;
        output.data.set(run.output.data.subarray((h * qLength + r) * dim, (h * qLength + r + 1) * dim), (h * qLength + i) * dim);
        lse[h * qLength + i] = run.lse[h * qLength + r] as number;
      }
    }
    return { output, lse, density: kept / (heads * causalPairs) };
  } finally {
    if (options.backend === undefined) await backend.dispose();
  }
}
